"""Hook implementations of omegacore-pandas-dfrows (imports no pandas)."""

from __future__ import annotations

from typing import Any

from omegacore import KindSpec, MixinSpec, hookimpl


@hookimpl
def omega_kinds() -> list[KindSpec]:
    return [
        KindSpec(
            "pandas.dfrows",
            "omegacore_pandas_dfrows.backend:DataFrameRowsBackend",
            # pandas 3 reports the classes as pandas.DataFrame / pandas.Series
            types=("pandas.DataFrame", "pandas.Series",
                   "pandas.core.frame.DataFrame", "pandas.core.series.Series"),
            priority=50,
            description="DataFrames and Series as one document per row, queryable",
        ),
        KindSpec(
            "pandas.serows",
            "omegacore_pandas_dfrows.backend:SeriesRowsBackend",
            types=("pandas.Series", "pandas.core.series.Series"),
            priority=0,
            description="Series written by omegaml 0.18 (read only; new Series use pandas.dfrows)",
        ),
    ]


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_pandas_dfrows.mixin:DataFrameRowsMixin",
            description="put_dataframe_as_documents, get_dataframe_documents",
        )
    ]


@hookimpl
def omega_cli_commands(subparsers: Any) -> None:
    from omegacore_pandas_dfrows.cli import add_commands

    add_commands(subparsers)
