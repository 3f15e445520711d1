"""Hook implementations of omegacore-dask (imports nothing heavy)."""

from __future__ import annotations

from omegacore import MixinSpec, hookimpl


@hookimpl
def omega_mdf_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_dask.mixin:DaskMixin",
            description="mdf.to_dask(): a lazy frame as a Dask DataFrame, one partition "
                        "per row range, filters and columns pushed into each read",
        )
    ]
