"""Entry point of omegacore-polars: declares the kind and the store mixin.

Only import paths are given here, so ``omegacore plugins`` and opening a store do not
import polars.
"""

from __future__ import annotations

from omegacore import KindSpec, MixinSpec, hookimpl

from omegacore_polars import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    """The ``polars.parquet`` kind: polars DataFrames stored as one Parquet file."""
    return [
        KindSpec(
            KIND,
            "omegacore_polars.backend:PolarsParquetBackend",
            types=("polars.dataframe.frame.DataFrame",),
            priority=50,
            description="polars DataFrame as a Parquet file in GridFS",
        )
    ]


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    """Adds ``put_polars`` to every store."""
    return [
        MixinSpec(
            "omegacore_polars.mixin:PolarsStoreMixin",
            description="put_polars(df, name, attributes=None)",
        )
    ]
