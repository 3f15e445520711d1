"""Store methods of the pandas.dfgroup kind (names and arguments as in omegaml's OmegaStore)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from omegacore import StoreMixin
from omegacore_pandas_dfgroup import KIND


class DataFrameGroupMixin(StoreMixin):
    """Adds ``put_dataframe_as_dfgroup``, ``get_dataframe_dfgroup`` and ``rebuild_params``."""

    def put_dataframe_as_dfgroup(
        self,
        obj: Any,
        name: str,
        groupby: Any,
        attributes: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Store a DataFrame grouped by the ``groupby`` column(s), one document per group::

            {<group key>: value, ..., _data: [{<other columns>: value, ...}, ...]}

        Replaces a stored object of that name unless ``append=True``. Goes through
        ``store.put`` so that before/after-put hooks see it; returns the metadata.
        """
        return self.put(
            obj, name, attributes=attributes, kind=KIND, groupby=groupby, **kwargs
        )

    def get_dataframe_dfgroup(
        self,
        name: str,
        version: int = -1,
        kwargs: Mapping[Hashable, Any] | None = None,
        **criteria: Any,
    ) -> Any:
        """The stored grouped DataFrame, or its rows matching the filter.

        kwargs: ``column__op=value`` criteria as a dict (omegaml's signature); they may
        also be given as keyword arguments. Criteria on group keys select groups, criteria
        on other columns select rows (only matching rows are returned).
        """
        from omegacore.errors import DoesNotExist

        meta = self.metadata(name)
        if meta is None:
            raise DoesNotExist(f"{name!r} does not exist in {self!r}")
        if meta.kind != KIND:
            raise TypeError(
                f"{name!r} is stored as {meta.kind}, not as {KIND}; use store.get({name!r})"
            )
        backend = self.get_backend_bykind(KIND)
        return backend.get(name, version=version, meta=meta, kwargs=kwargs, **criteria)

    def rebuild_params(self, kwargs: Mapping[Hashable, Any] | None, collection: Any
                       ) -> dict[str, Any]:
        """The MongoDB filter on a grouped object's documents for ``column__op=value`` criteria.

        Criteria on the group keys stay top-level conditions; criteria on the other columns
        become ``_data: {$elemMatch: {...}}`` (documents holding at least one such row).
        ``collection`` is the object's collection or its name.
        """
        from omegacore_pandas_dfgroup.backend import DataFrameGroupBackend

        coll = collection if hasattr(collection, "find_one") else (
            self.mongodb[collection]
        )
        found = self.list(
            kind=KIND, raw=True, hidden=True, include_temp=True, filter={"collection": coll.name}
        )
        backend = self.get_backend_bykind(KIND)
        assert isinstance(backend, DataFrameGroupBackend)
        return backend.group_filter(kwargs, coll, meta=found[0] if found else None)
