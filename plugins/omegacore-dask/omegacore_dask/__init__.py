"""Stored frames as Dask DataFrames: ``read_store`` and ``to_store``.

``read_store(store, name)`` (or ``store.getl(name).to_dask()``) gives a
``dask.dataframe.DataFrame`` whose partitions each read one range of the stored rows,
with the filter and the columns pushed into every read. ``to_store(ddf, store, name)``
writes the partitions from the workers and commits once. Dask is imported when one of
them is called, not when the plugin loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omegacore_dask.read import read_store
    from omegacore_dask.write import to_store

__all__ = ["read_store", "to_store"]


def __getattr__(name: str) -> Any:
    if name == "read_store":
        from omegacore_dask.read import read_store

        return read_store
    if name == "to_store":
        from omegacore_dask.write import to_store

        return to_store
    raise AttributeError(f"module 'omegacore_dask' has no attribute {name!r}")
