"""Entry point of omegacore-pandas-rawdict: declares the kind.

Only import paths are given here, so listing plugins imports neither pandas nor the
backend.
"""

from __future__ import annotations

from omegacore import KindSpec, hookimpl

from omegacore_pandas_rawdict import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    """``pandas.rawdict``: a registered collection, or dicts put with ``as_raw=True``."""
    return [
        KindSpec(
            KIND,
            "omegacore_pandas_rawdict.backend:RawDictBackend",
            types=("pymongo.collection.Collection", "builtins.dict", "builtins.list",
                   "builtins.tuple"),
            priority=40,
            selected_by=("as_raw",),  # dicts: python.data's unless as_raw=True
            description="a registered collection, or dicts with as_raw=True, read as frames",
        )
    ]
