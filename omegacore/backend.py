"""The base class for kind backends: what a plugin author subclasses.

A backend stores objects of one kind and reads them back. It writes data through a
``StagedPut`` (``self.stage(...)``), which gives the store its guarantees for free:
new data is written aside, the metadata is switched in one atomic update, and only
then is the previous data removed; if the put raises, everything it wrote is removed
and the previous object stays readable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from omegacore.errors import StaleRead
from omegacore.journal import ROWID_FIELD
from omegacore.staging import visible_rows_filter

if TYPE_CHECKING:
    from gridfs.synchronous.grid_file import GridOut

    from omegacore.documents import MetadataBase
    from omegacore.staging import StagedPut
    from omegacore.store import OmegaStore


class BaseBackend:
    """Stores and retrieves objects of one kind (``KIND``) in an ``OmegaStore``.

    Subclasses implement ``supports``, ``put`` and ``get``. The store creates a backend
    with ``model_store`` and ``data_store`` (both the calling store unless given).
    """

    KIND: ClassVar[str] = ""
    #: True if objects of this kind may share stored data: ``put(..., append=True)`` adds
    #: data beside what is stored and never changes it (e.g. a file per append), and
    #: ``put(..., share_with=name)`` stores only what the stored object ``name`` lacks,
    #: referencing the rest. Removal then keeps what other objects reference, and new
    #: versions share their predecessor's data (omegacore-versions)
    SHARES_DATA: ClassVar[bool] = False

    def __init__(
        self,
        model_store: OmegaStore | None = None,
        data_store: OmegaStore | None = None,
        **kwargs: Any,
    ) -> None:
        self.model_store = model_store
        self.data_store = data_store
        self.options = kwargs

    @property
    def store(self) -> OmegaStore:
        """The store this backend writes to (``data_store``, else ``model_store``)."""
        store = self.data_store or self.model_store
        if store is None:
            raise RuntimeError(f"{type(self).__name__} was created without a store")
        return store

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        """True if this backend can store ``obj``; ``kwargs`` are those given to ``put``."""
        raise NotImplementedError(f"{cls.__name__} must implement supports()")

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store ``obj`` under ``name`` and return its committed metadata.

        ``replace=True`` asks kinds that append to replace instead; ``kwargs`` are the
        remaining keyword arguments given to ``store.put``. With an explicit
        ``store.put(..., kind=...)`` the store does not ask ``supports`` first, so ``put``
        validates its input itself and raises a clear TypeError/ValueError before writing.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement put()")

    def get(
        self, name: str, version: int = -1, meta: MetadataBase | None = None, **kwargs: Any
    ) -> Any:
        """Return the object stored under ``name``; ``meta`` is passed when already read."""
        raise NotImplementedError(f"{type(self).__name__} must implement get()")

    def stage(
        self,
        name: str,
        attributes: dict[str, Any] | None = None,
        kind_meta: dict[str, Any] | None = None,
    ) -> StagedPut:
        """Begin a put of ``name`` as this backend's kind (use as a context manager)."""
        return self.store.stage(name, kind=self.KIND, attributes=attributes, kind_meta=kind_meta)

    def metadata(self, name: str, meta: MetadataBase | None = None) -> MetadataBase:
        """The metadata of ``name`` (``meta`` if given), or a clear error if it is gone."""
        meta = meta if meta is not None else self.store.metadata(name)
        if meta is None:
            raise KeyError(f"{name!r} is not stored in {self.store!r}")
        return meta

    def visible_rows(self, meta: MetadataBase, field: str = ROWID_FIELD) -> dict[str, Any]:
        """The MongoDB filter selecting the committed documents of ``meta.collection``.

        Kinds that append (``StagedPut.reserve_rows``) add it to every query, so rows of an
        append in progress, or of one whose process died, are never read. ``{}`` when every
        document is committed (e.g. data written by omegaml).
        """
        return visible_rows_filter((meta.storage or {}).get("rows"), field)

    def check_current(self, meta: MetadataBase) -> None:
        """Raise ``StaleRead`` if ``meta`` is no longer the object's metadata.

        Call it when a read comes back suspiciously empty (e.g. no rows although the
        metadata counts some): the store then reads again with the current metadata.
        """
        doc = self.store._metadata_doc(meta.name, meta.bucket, meta.prefix, {"generation": 1})
        if doc is None or doc.get("generation") != meta.generation:
            raise StaleRead(f"{meta.name!r} was replaced or dropped while it was read")

    def open_file(self, meta: MetadataBase) -> GridOut:
        """A readable stream of the GridFS file ``meta`` points to (``read``, ``readinto``)."""
        if meta.gridfile_id is None:
            raise ValueError(f"{meta.name!r} ({meta.kind}) has no GridFS file")
        return self.store.gridfs_bucket.open_download_stream(meta.gridfile_id)

    def column_names(self, meta: MetadataBase) -> list[Any] | None:
        """The stored object's column names in order, for kinds that have columns, else None.

        Mixins such as column projection (``name[a:c]``) use it without knowing the kind.
        """
        return None

    def put_options(self, meta: MetadataBase) -> dict[str, Any]:
        """Keyword arguments with which ``put`` stores what ``get`` read from ``meta`` the
        same way again (e.g. the group columns of grouped rows); ``{}`` for most kinds.

        Copies between stores (promotion) pass them with ``kind=meta.kind``.
        """
        return {}

    def help(self, obj: Any = None) -> str:
        """Text shown by ``store.help`` for objects of this kind."""
        return (type(self).__doc__ or self.KIND).strip()
