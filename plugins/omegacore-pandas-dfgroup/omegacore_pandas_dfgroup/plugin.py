"""Hook implementations of omegacore-pandas-dfgroup (imports no pandas)."""

from __future__ import annotations

from omegacore import KindSpec, MixinSpec, hookimpl


@hookimpl
def omega_kinds() -> list[KindSpec]:
    return [
        KindSpec(
            "pandas.dfgroup",
            "omegacore_pandas_dfgroup.backend:DataFrameGroupBackend",
            # pandas 3 reports the class as pandas.DataFrame
            types=("pandas.DataFrame", "pandas.core.frame.DataFrame"),
            priority=70,
            selected_by=("groupby",),
            description="DataFrames grouped by columns, one document per group "
            "(chosen with groupby=...)",
        )
    ]


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_pandas_dfgroup.mixin:DataFrameGroupMixin",
            description="put_dataframe_as_dfgroup, get_dataframe_dfgroup, rebuild_params",
        )
    ]
