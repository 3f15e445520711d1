"""Hook implementations of omegacore-mdf-apply (imports nothing heavy)."""

from __future__ import annotations

from omegacore import MixinSpec, hookimpl


@hookimpl
def omega_mdf_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_mdf_apply.mixin:ApplyMixin",
            description="mdf.apply(fn): arithmetic, .str, .dt, groupby and raw stages "
                        "as one aggregation pipeline; persist()/reset_cache()",
        )
    ]
