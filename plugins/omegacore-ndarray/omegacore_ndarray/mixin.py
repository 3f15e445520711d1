"""Store method of omegacore-ndarray (pandas is imported only when it is called)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omegacore import StoreMixin

if TYPE_CHECKING:
    from omegacore import MetadataBase


class NDArrayMixin(StoreMixin):
    """Adds ``put_ndarray_as_hdf``; overrides nothing, so it needs no ``super()`` call."""

    def put_ndarray_as_hdf(
        self, obj: Any, name: str, attributes: dict[str, Any] | None = None
    ) -> MetadataBase:
        """Store a 1- or 2-dimensional numpy array as a DataFrame of kind ``pandas.hdf``.

        The array is converted with ``pd.DataFrame(obj)``, so ``get`` returns a DataFrame;
        store it with ``store.put(obj, name)`` (kind ``ndarray.bin``) to get the array back.
        Needs pandas and the omegacore-pandas-hdf plugin.
        """
        import pandas as pd

        return self.put(pd.DataFrame(obj), name, attributes=attributes, kind="pandas.hdf")
