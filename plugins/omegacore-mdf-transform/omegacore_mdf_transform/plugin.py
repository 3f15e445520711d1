"""Hook implementations of omegacore-mdf-transform (imports nothing heavy)."""

from __future__ import annotations

from omegacore import MixinSpec, hookimpl


@hookimpl
def omega_mdf_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_mdf_transform.mixin:TransformMixin",
            description="mdf.transform(fn, n_jobs=, chunksize=) in worker processes; "
                        ".value, .persist(name)",
        )
    ]
