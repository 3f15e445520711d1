"""Store methods of omegacore-pandas-hdf from the reference API (no heavy imports here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omegacore import StoreMixin
from omegacore.errors import DoesNotExist

from omegacore_pandas_hdf import KIND

if TYPE_CHECKING:
    from omegacore.documents import MetadataBase


class PandasHdfMixin(StoreMixin):
    """Adds ``put_pyobj_as_hdf`` and ``get_dataframe_hdf``; overrides nothing."""

    def put_pyobj_as_hdf(
        self, obj: Any, name: str, attributes: dict[str, Any] | None = None, **kwargs: Any
    ) -> MetadataBase:
        """Store a list, tuple or dict as an HDF5 DataFrame (kind ``pandas.hdf``).

        The object is converted with ``pandas.DataFrame(obj)``, so ``get`` returns a
        DataFrame. ``kwargs`` are the kind's put options (``format``, ``complevel``, ...).
        The put goes through ``store.put`` so that before/after-put hooks run.
        """
        if not isinstance(obj, (list, tuple, dict)):
            raise TypeError(
                "put_pyobj_as_hdf stores a list, tuple or dict that converts into a "
                f"DataFrame, got {type(obj).__module__}.{type(obj).__qualname__}; "
                "store DataFrames with store.put(df, name, as_hdf=True)"
            )
        return self.put(obj, name, attributes=attributes, kind=KIND, **kwargs)

    def get_dataframe_hdf(self, name: str, version: int = -1) -> Any:
        """The DataFrame (or Series) stored under ``name`` as kind ``pandas.hdf``."""
        meta = self.metadata(name)
        if meta is None:
            raise DoesNotExist(f"{name!r} does not exist in {self!r}")
        if meta.kind != KIND:
            raise TypeError(
                f"{name!r} is stored as kind {meta.kind!r}, not {KIND!r}; "
                f"read it with store.get({name!r})"
            )
        return self.get_backend_bykind(KIND).get(name, version=version, meta=meta)
