"""Entry point of omegacore-pandas-parquet: declares the ``pandas.parquet`` kind.

Only import paths and type names are given here: listing plugins or opening a store
imports neither pandas nor pyarrow.
"""

from __future__ import annotations

from omegacore import KindSpec, hookimpl

from omegacore_pandas_parquet import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    """``pandas.parquet``, chosen only for ``put(..., as_parquet=True)`` or ``kind=``."""
    return [
        KindSpec(
            KIND,
            "omegacore_pandas_parquet.backend:PandasParquetBackend",
            types=("pandas.core.generic.NDFrame",),
            priority=60,
            selected_by=("as_parquet",),
            description="DataFrame or Series as zstd-compressed Parquet row groups in "
                        "GridFS; as_parquet=True",
        )
    ]
