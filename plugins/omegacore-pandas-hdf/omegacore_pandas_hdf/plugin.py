"""Entry point of omegacore-pandas-hdf: declares the ``pandas.hdf`` kind and its store methods.

Only import paths and type names are given here, so listing plugins or opening a store
imports neither pandas nor PyTables.
"""

from __future__ import annotations

from omegacore import KindSpec, MixinSpec, hookimpl

from omegacore_pandas_hdf import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    """The ``pandas.hdf`` kind, chosen only for ``put(..., as_hdf=True)`` or ``kind=``."""
    return [
        KindSpec(
            KIND,
            "omegacore_pandas_hdf.backend:PandasHdfBackend",
            # NDFrame: DataFrame and Series on pandas 2 and 3 (pandas 3 reports the public
            # classes as pandas.DataFrame / pandas.Series, pandas 2 as pandas.core.frame...)
            types=(
                "pandas.core.generic.NDFrame",
                "numpy.ndarray",
                "builtins.dict",
                "builtins.list",
                "builtins.tuple",
            ),
            priority=60,
            selected_by=("as_hdf",),
            description="DataFrame or Series as an HDF5 (PyTables) file in GridFS; as_hdf=True",
        )
    ]


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    """Adds put_pyobj_as_hdf and get_dataframe_hdf."""
    return [
        MixinSpec(
            "omegacore_pandas_hdf.mixin:PandasHdfMixin",
            description="put_pyobj_as_hdf(obj, name, attributes=None), get_dataframe_hdf(name)",
        )
    ]
