"""The entry point of lazy frames: ``open_lazy(store, name, meta)``.

``store.get(name, lazy=True)`` and ``store.getl(name)`` on row kinds come here and get an
``MDataFrame`` (an ``MSeries`` for stored Series or ``is_series=True``): filters,
projections, sorting, windows and aggregations run on the server, and data is read only
when asked for (see ``omegacore_pandas.mdataframe``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any


def lazy_classes(store: Any) -> tuple[type, type] | None:
    """The lazy frame classes for ``store``: the ``omega_mdf_mixins`` of its plugins
    (those that apply to it) composed in front, or None if there are none."""
    from omegacore_pandas.mdataframe import MDataFrame, mixed_classes

    plugins = getattr(store, "plugins", None)
    if plugins is None:
        return None
    mixins = plugins.mixin_classes(store, hook="omega_mdf_mixins", base=MDataFrame)
    return mixed_classes(mixins)


def open_lazy(store: Any, name: str, meta: Any, columns: Sequence[Hashable] | None = None,
              filter: Mapping[Hashable, Any] | None = None, is_series: bool = False,
              chunksize: int | None = None, trusted: bool = False,
              immediate_loc: bool = False, visible: Mapping[str, Any] | None = None,
              **kwargs: Any) -> Any:
    """A lazy frame (MDataFrame) for the stored object ``name`` with metadata ``meta``.

    columns: only these columns. filter: ``column__op=value`` criteria (more criteria may
    come as keyword arguments). is_series: a lazy Series of the first column.
    chunksize: the default chunk size of ``iterchunks()``; iterating the frame then gives
    chunks. trusted: accept raw MongoDB operators in the filter (own code only).
    immediate_loc: ``loc``/``iloc`` read at once (as omegaml's option). visible: the
    filter of committed rows (``BaseBackend.visible_rows``), part of every query. Reads
    no data; checks the names now.
    """
    from omegacore_pandas.layout import FrameLayout
    from omegacore_pandas.mdataframe import open_frame
    from omegacore_pandas.plan import Source

    if not getattr(meta, "collection", None):
        raise ValueError(f"{name!r} has no row collection; its metadata is incomplete")
    if chunksize is not None and (
        not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1
    ):
        raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
    layout = FrameLayout.from_kind_meta(meta.kind_meta or {}, meta.kind)
    ours = (meta.kind_meta or {}).get("omegacore") or {}
    rows = ours.get("rows") if isinstance(ours.get("rows"), int) else None
    source = Source(store.mongodb[meta.collection], layout, name, rows=rows,
                    visible=dict(visible or {}), classes=lazy_classes(store), store=store)
    criteria: dict[Hashable, Any] = {}
    criteria.update(kwargs)
    criteria.update(filter or {})
    return open_frame(source, columns=columns, criteria=criteria, is_series=is_series,
                      chunksize=chunksize, trusted=trusted, immediate_loc=immediate_loc)
