"""Lazy plans: a source of row documents plus row operations, run as one server query.

A lazy frame (``omegacore_pandas.mdataframe.MDataFrame``) is a ``Source`` (a stored
collection, or a pipeline over one such as a merge) and a tuple of stages:

- ``Match``: a MongoDB filter (from ``column__op=value`` criteria or masks)
- ``Sort``: sort keys (with computed keys where pandas orders differently from MongoDB)
- ``Window``: a row slice ``[start:stop]`` (head, tail, skip, iloc slices)
- ``Take``: row positions (iloc with a list)
- ``Compute``: computed columns (``mdf['z'] = mdf.x * 2``, see ``expressions``)

``compile_plan`` turns them into a single ``find`` when they have that shape (filters,
then one sort, then one window: this is what indexes serve best) and into an aggregation
pipeline otherwise (e.g. a filter after ``head``). Stages apply in the order given, as
the pandas operations would: ``mdf.head(10)[mdf.x > 3]`` filters the first ten rows.

The natural row order is the stored order (``_om#rowid``). Windows sort by it on the
server first; plain reads sort client-side, as ``store.get`` does. Sorts are stable: ties
keep the order they had before.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.errors import OperationFailure, PyMongoError

from omegacore_pandas.codecs import CategoryCodec, Codec, DatetimeCodec, NumberCodec
from omegacore_pandas.decode import decode_frame, iter_frames
from omegacore_pandas.layout import FieldSpec, FrameLayout
from omegacore_pandas.names import ROWID_FIELD
from omegacore_pandas.query import Probe, collection_probe, combine
from omegacore_pandas.rows import READ_BATCH_BYTES, read_rows

#: a filter that matches no document
NOTHING: dict[str, Any] = {"_id": {"$exists": False}}
#: prefix of fields this module adds to documents in pipelines (never a user field name)
TEMP_PREFIX = "_om#"
#: categories up to this many are sorted by their position (pandas' order); beyond, by value
MAX_SORT_CATEGORIES = 10_000

SortKeys = tuple[tuple[str, int], ...]


# ------------------------------------------------------------------------------------------
# sources and stages
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """Where the rows come from: a collection, optionally through a pipeline (``base``).

    ``order`` are sort keys giving the natural row order (unique per row); ``presorted``
    says the base pipeline already returns rows in that order. ``cast``, if given, is
    applied to every frame read (e.g. the dtypes pandas gives a left merge's columns).
    """

    collection: Collection
    layout: FrameLayout
    name: str
    base: tuple[dict[str, Any], ...] = ()
    order: SortKeys = ((ROWID_FIELD, ASCENDING),)
    presorted: bool = False
    #: rows ever written (the next row id), from the metadata; lets ``tail`` seek by row id
    rows: int | None = None
    cast: Callable[[Any], Any] | None = field(default=None, compare=False)
    #: the filter selecting committed rows (``BaseBackend.visible_rows``): rows of an
    #: append that has not committed, or whose process died, are never read
    visible: dict[str, Any] = field(default_factory=dict, compare=False)
    #: the lazy frame and lazy Series classes with the ``omega_mdf_mixins`` composed in
    #: (None: the plain classes)
    classes: tuple[type, type] | None = field(default=None, compare=False)
    #: the store the rows belong to (None for a bare collection), for mixins that reopen
    #: the object elsewhere (e.g. in worker processes)
    store: Any = field(default=None, compare=False)

    def finish(self, obj: Any) -> Any:
        """``obj`` (a frame or Series read from this source) with ``cast`` applied."""
        return self.cast(obj) if self.cast is not None else obj

    @property
    def key(self) -> str:
        """Identifies the rows of this source (masks must come from the same source)."""
        return f"{self.collection.full_name}:{len(self.base)}:{self.name}"

    @property
    def stored(self) -> bool:
        """True if this is a stored collection as it is (no pipeline in front)."""
        return not self.base

    def probe(self) -> Probe | None:
        """Asks whether any stored row matches a filter (None behind a pipeline)."""
        return collection_probe(self.collection) if self.stored else None


@dataclass(frozen=True)
class Match:
    """Keep the rows matching a MongoDB filter."""

    filter: dict[str, Any]


@dataclass(frozen=True)
class Sort:
    """Sort by ``keys``; ``computed`` are fields added first (``$addFields``) to sort by."""

    keys: SortKeys
    computed: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Window:
    """Rows ``[start:stop]`` of the current order (negative bounds count from the end)."""

    start: int | None
    stop: int | None


@dataclass(frozen=True)
class Take:
    """Rows at these positions, in this order (negative positions count from the end)."""

    positions: tuple[int, ...]


@dataclass(frozen=True)
class Compute:
    """Add computed fields (``$addFields``): ``(field, aggregation expression)`` pairs."""

    fields: tuple[tuple[str, Any], ...]


Stage = Match | Sort | Window | Take | Compute


def add_stage(stages: tuple[Stage, ...], stage: Stage) -> tuple[Stage, ...]:
    """``stages`` with ``stage`` appended, merging it into the last stage where possible."""
    if stages:
        last = stages[-1]
        if isinstance(stage, Match) and isinstance(last, Match):
            return (*stages[:-1], Match(combine([last.filter, stage.filter])))
        if isinstance(stage, Window) and isinstance(last, Window):
            merged = _compose_slices(last, stage)
            if merged is not None:
                return (*stages[:-1], merged)
    return (*stages, stage)


def _compose_slices(first: Window, second: Window) -> Window | None:
    """One window for ``[first][second]`` if both have non-negative bounds, else None."""
    bounds = (first.start, first.stop, second.start, second.stop)
    if any(b is not None and b < 0 for b in bounds):
        return None
    start1 = first.start or 0
    start2 = second.start or 0
    start = start1 + start2
    stops = []
    if first.stop is not None:
        stops.append(max(first.stop, start1))
    if second.stop is not None:
        stops.append(start1 + second.stop)
    stop = min(stops) if stops else None
    if stop is not None:
        stop = max(stop, start)
    return Window(start, stop)


# ------------------------------------------------------------------------------------------
# sorting
# ------------------------------------------------------------------------------------------
def missing_expr(codec: Codec, path: str) -> dict[str, Any]:
    """An aggregation expression: True where the field holds a value pandas reads as missing."""
    return {"$in": [{"$ifNull": ["$" + path, None]}, {"$literal": codec.missing_values()}]}


def may_be_missing(codec: Codec) -> bool:
    """Whether a column of this codec can hold missing values (NaN, None, NaT, NA)."""
    if isinstance(codec, CategoryCodec):
        return True
    if isinstance(codec, NumberCodec) and not codec.nullable:
        return codec.storage in ("double", "timedelta")
    return True


def sort_stage(layout: FrameLayout, by: Sequence[Hashable], ascending: Sequence[bool],
               na_position: str, number: int) -> Sort:
    """The Sort for pandas' ``sort_values(by, ascending, na_position)``.

    MongoDB sorts missing values first when ascending and last when descending; where
    pandas wants the other place, a computed flag comes first. Categories sort by their
    position among the categories (as pandas does), datetimes by milliseconds and then
    the sub-millisecond remainder.
    """
    if na_position not in ("first", "last"):
        raise ValueError(f"na_position must be 'first' or 'last', got {na_position!r}")
    names = layout.lookup()
    keys: list[tuple[str, int]] = []
    computed: list[tuple[str, Any]] = []
    for i, (name, asc) in enumerate(zip(by, ascending, strict=True)):
        spec = names.get(name)
        if spec is None:
            raise KeyError(
                f"sort: {name!r} is not a column or index level; use one of "
                f"{[s.name for s in layout.columns]}"
            )
        direction = 1 if asc else -1
        codec = spec.codec
        tag = f"{TEMP_PREFIX}s{number}_{i}"
        na_first_natively = asc  # MongoDB puts null/NaN first ascending, last descending
        flag = may_be_missing(codec) and na_first_natively != (na_position == "first")
        value_path = spec.field
        if flag:
            missing = missing_expr(codec, spec.field)
            computed.append((tag + "n", {"$cond": [missing, 1 if na_position == "last" else 0,
                                                   0 if na_position == "last" else 1]}))
            keys.append((tag + "n", 1))
            computed.append((tag + "v", {"$cond": [missing, None, "$" + spec.field]}))
            value_path = tag + "v"
        if isinstance(codec, CategoryCodec) and _needs_code_order(codec):
            cats = [codec.inner.query_value(c) for c in codec.dtype.categories]
            computed.append((tag + "c", {"$indexOfArray": [{"$literal": cats},
                                                           "$" + value_path]}))
            keys.append((tag + "c", direction))
            continue
        keys.append((value_path, direction))
        if isinstance(codec, DatetimeCodec) and codec.has_remainder:
            keys.append((codec.rem_field, direction))
    return Sort(tuple(_dedupe(keys)), tuple(computed))


def _needs_code_order(codec: CategoryCodec) -> bool:
    dtype = codec.dtype
    if dtype is None or len(dtype.categories) > MAX_SORT_CATEGORIES:
        return False
    return not bool(pd.Index(dtype.categories).is_monotonic_increasing)


def _dedupe(keys: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    seen: set[str] = set()
    out = []
    for name, direction in keys:
        if name not in seen:
            seen.add(name)
            out.append((name, direction))
    return out


# ------------------------------------------------------------------------------------------
# compiling
# ------------------------------------------------------------------------------------------
@dataclass
class Compiled:
    """A plan as the server runs it.

    ``pipeline`` always holds the full aggregation pipeline; ``find`` holds the
    equivalent find() arguments when the plan has that shape. ``order`` is the server
    sort the rows come back in (None: natural order, to be sorted by row id client-side);
    ``take`` are positions to pick client-side from the rows read (iloc with a list).
    """

    pipeline: list[dict[str, Any]]
    find: dict[str, Any] | None
    order: SortKeys | None
    take: list[int] | None = None
    empty: bool = False

    @property
    def ordered(self) -> bool:
        return self.order is not None


def compile_plan(source: Source, stages: Sequence[Stage], client_take: bool = True
                 ) -> Compiled:
    """Compile ``stages`` over ``source`` (runs counting queries for negative bounds).

    ``client_take``: a ``Take`` that is the last stage reads the smallest window holding
    the positions and picks them client-side (keeps pandas' order and repeats); otherwise
    positions are selected on the server.
    """
    stages = list(stages)
    take: list[int] | None = None
    if source.stored and stages and isinstance(stages[0], (Window, Take)):
        first = stages[0]
        if isinstance(first, Window):
            seek = seek_window(source, first)
            if seek is not None:
                stages[0] = Match(seek)
        elif first.positions and min(first.positions) >= 0:
            wanted = sorted(set(first.positions))
            if seek_window(source, Window(wanted[0], wanted[-1] + 1)) is not None:
                # positions are row ids: read just those rows (in row order)
                stages[0] = Match({ROWID_FIELD: {"$in": wanted}})
                if client_take and len(stages) == 1:
                    where = {p: i for i, p in enumerate(wanted)}
                    take = [where[p] for p in first.positions]
    pipe: list[dict[str, Any]] = list(source.base)
    if source.visible:
        pipe.insert(0, {"$match": source.visible})
    order: SortKeys | None = source.order if source.presorted else None
    find: dict[str, Any] | None = (
        {"filter": [source.visible] if source.visible else [], "sort": None, "skip": 0,
         "limit": None} if source.stored else None
    )
    phase = 0  # find shape: 0 filters, 1 sorted, 2 windowed
    empty = False
    for i, stage in enumerate(stages):
        last = i == len(stages) - 1
        if isinstance(stage, Match):
            pipe.append({"$match": stage.filter})
            if find is not None and phase == 0:
                find["filter"].append(stage.filter)
            else:
                find = None
        elif isinstance(stage, Compute):
            pipe.append({"$addFields": dict(stage.fields)})
            find = None
        elif isinstance(stage, Sort):
            if stage.computed:
                pipe.append({"$addFields": dict(stage.computed)})
                find = None
            keys = tuple(_dedupe([*stage.keys, *(order or source.order)]))
            pipe.append({"$sort": dict(keys)})
            order = keys
            if find is not None and phase == 0:
                find["sort"] = list(keys)
                phase = 1
            else:
                find = None
        else:
            if order is None:
                order = source.order
                pipe.append({"$sort": dict(order)})
                if find is not None:
                    find["sort"] = list(order)
                    phase = 1
            if isinstance(stage, Window):
                start, stop = _resolve_window(stage, lambda: count_pipeline(source, pipe))
                positions = None
            else:
                positions = _resolve_positions(stage, lambda: count_pipeline(source, pipe))
                start = min(positions) if positions else 0
                stop = max(positions) + 1 if positions else 0
            skip, limit = start, max(stop - start, 0) if stop is not None else None
            if skip:
                pipe.append({"$skip": skip})
            if limit == 0:
                pipe.append({"$match": NOTHING})
                empty = True
            elif limit is not None:
                pipe.append({"$limit": limit})
            if find is not None:
                find["skip"], find["limit"] = _compose_find(find["skip"], find["limit"],
                                                            skip, limit)
                phase = 2
            if positions is not None:
                relative = [p - start for p in positions]
                if client_take and last:
                    take = relative
                else:
                    find = None
                    pos = TEMP_PREFIX + "pos"
                    pipe.append({"$setWindowFields": {
                        "sortBy": dict(order),
                        "output": {pos: {"$documentNumber": {}}},
                    }})
                    pipe.append({"$match": {pos: {"$in": sorted({r + 1 for r in relative})}}})
                    pipe.append({"$sort": dict(order)})  # the order, whatever the server did
                    pipe.append({"$unset": pos})
    if find is not None:
        find["filter"] = combine(list(find["filter"]))
        if find["limit"] == 0:
            find["filter"], find["limit"] = NOTHING, None
    return Compiled(pipe, find, order, take, empty)


def seek_window(source: Source, window: Window) -> dict[str, Any] | None:
    """A row id range filter selecting exactly the rows of a leading window, or None.

    Row ids are unique non-negative ints below ``source.rows``; where those below ``stop``
    are all present (checked by an index count), position ``p`` is row id ``p``, and a
    range filter (served by the row id index) replaces sort + skip + limit, which some
    servers run by scanning the whole collection. ``tail(n)`` checks that the ``n``
    highest possible row ids are all present.
    """
    start, stop = window.start, window.stop
    count = source.collection.count_documents
    if (start is None or start >= 0) and stop is not None and stop > 0:
        lo = start or 0
        if lo >= stop or (lo and source.layout.source != "omegacore"):
            return None  # positions are row ids only where row ids are unique (ours)
        _ensure_rowid_index(source)
        if count({ROWID_FIELD: {"$lt": stop}}) != stop:
            return None
        return {ROWID_FIELD: {"$gte": lo, "$lt": stop}} if lo else {ROWID_FIELD: {"$lt": stop}}
    if source.rows is not None and start is not None and start < 0 and (
        stop is None or start < stop <= 0
    ):
        first = source.rows + start
        if first < 0:
            return None
        _ensure_rowid_index(source)
        if count({ROWID_FIELD: {"$gte": first}}) != -start:
            return None
        end = source.rows + (stop or 0)
        return {ROWID_FIELD: {"$gte": first, "$lt": end}}
    return None


def _compose_find(skip: int, limit: int | None, skip2: int, limit2: int | None
                  ) -> tuple[int, int | None]:
    """skip/limit of ``rows[skip:skip+limit][skip2:skip2+limit2]``."""
    new_skip = skip + skip2
    if limit is None:
        return new_skip, limit2
    remaining = max(limit - skip2, 0)
    return new_skip, remaining if limit2 is None else min(remaining, limit2)


def _resolve_window(window: Window, count: Any) -> tuple[int, int | None]:
    """(start, stop) with non-negative bounds; ``count()`` gives the current row count."""
    start, stop = window.start, window.stop
    if (start is not None and start < 0) or (stop is not None and stop < 0):
        n = int(count())
        start, stop, _ = slice(start, stop).indices(n)
        return start, max(stop, start)
    return start or 0, stop


def _resolve_positions(take: Take, count: Any) -> list[int]:
    positions = list(take.positions)
    if any(p < 0 for p in positions):
        n = int(count())
        positions = [p + n if p < 0 else p for p in positions]
        if any(p < 0 for p in positions):
            raise IndexError("positional indexers are out-of-bounds")
    return positions


# ------------------------------------------------------------------------------------------
# running
# ------------------------------------------------------------------------------------------
def count_pipeline(source: Source, pipe: Sequence[dict[str, Any]]) -> int:
    """The number of rows ``pipe`` returns (counted on the server)."""
    if all(set(stage) <= {"$match", "$sort"} for stage in pipe):
        query = combine([s["$match"] for s in pipe if "$match" in s])
        return int(source.collection.count_documents(query))
    stages = [s for i, s in enumerate(pipe) if "$sort" not in s or _window_after(pipe, i)]
    result = list(source.collection.aggregate([*stages, {"$count": "n"}], allowDiskUse=True))
    return int(result[0]["n"]) if result else 0


def _window_after(pipe: Sequence[dict[str, Any]], i: int) -> bool:
    """A $sort matters for counting only if a window or a position filter follows it."""
    return any(set(s) & {"$skip", "$limit", "$setWindowFields"} for s in pipe[i + 1:])


def count_rows(source: Source, compiled: Compiled) -> int:
    """The number of rows of a compiled plan."""
    if compiled.take is not None:
        return len(compiled.take)
    if compiled.empty:
        return 0
    find = compiled.find
    if find is not None:
        options: dict[str, Any] = {}
        if find["skip"]:
            options["skip"] = find["skip"]
        if find["limit"] is not None:
            options["limit"] = find["limit"]
        return int(source.collection.count_documents(find["filter"], **options))
    return count_pipeline(source, compiled.pipeline)


_rowid_indexed: set[str] = set()


def ensure_order_index(source: Source, compiled: Compiled) -> None:
    """Create the row id index once per collection when the server sorts by row order.

    Without it, ``head``/``tail``/``iloc`` on a large collection sort every row. Read-only
    users cannot create it; then the server sorts without an index.
    """
    if not source.stored or compiled.order is None:
        return
    if compiled.order[0][0] != ROWID_FIELD:
        return
    _ensure_rowid_index(source)


def _ensure_rowid_index(source: Source) -> None:
    collection = source.collection
    name = collection.full_name
    if name in _rowid_indexed:
        return
    _rowid_indexed.add(name)
    try:
        # never create a collection that a concurrent put has just replaced and dropped
        if collection.name in collection.database.list_collection_names(
                filter={"name": collection.name}):
            collection.create_index([(ROWID_FIELD, ASCENDING)])
    except (OperationFailure, PyMongoError):
        pass


def batch_size(layout: FrameLayout) -> int:
    """Documents per batch: about ``READ_BATCH_BYTES`` of them."""
    return max(1000, READ_BATCH_BYTES // layout.estimated_row_bytes())


def raw_batches(source: Source, compiled: Compiled, columns: Sequence[Hashable] | None
                ) -> Any:
    """The server's raw batches of row documents for a compiled plan."""
    selected = source.layout.select(columns)
    size = batch_size(selected)
    find = compiled.find
    if find is not None:
        projection = {**selected.projection(), "_id": 0} if columns is not None else None
        cursor = source.collection.find_raw_batches(
            find["filter"], projection, skip=find["skip"], limit=find["limit"] or 0,
            batch_size=size,
        )
        if find["sort"]:
            cursor = cursor.sort(find["sort"])
        return cursor
    pipe = list(compiled.pipeline)
    if columns is not None:
        pipe.append({"$project": {**selected.projection(), "_id": 0}})
    return source.collection.aggregate_raw_batches(pipe, batchSize=size, allowDiskUse=True)


def read_plan(source: Source, compiled: Compiled, columns: Sequence[Hashable] | None,
              as_series: bool | None) -> pd.DataFrame | pd.Series:
    """The rows of a compiled plan as a frame (or a Series)."""
    ensure_order_index(source, compiled)
    find = compiled.find
    if find is not None and compiled.take is None:
        # the same call as store.get, so a plain lazy frame reads exactly the same
        return source.finish(read_rows(
            source.collection, source.layout, query=find["filter"], columns=columns,
            as_series=as_series, sort=find["sort"], skip=find["skip"],
            limit=find["limit"] or 0))
    selected = source.layout.select(columns)
    frame = decode_frame(raw_batches(source, compiled, columns), selected,
                         as_series=as_series, sort_rows=not compiled.ordered)
    if compiled.take is not None:
        frame = frame.iloc[compiled.take]
    return source.finish(frame)


def iter_plan(source: Source, compiled: Compiled, columns: Sequence[Hashable] | None,
              as_series: bool | None, chunksize: int) -> Iterator[pd.DataFrame | pd.Series]:
    """Frames of ``chunksize`` rows of a compiled plan, read batch by batch."""
    if not isinstance(chunksize, int) or isinstance(chunksize, bool) or chunksize < 1:
        raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
    if compiled.take is not None:
        frame = read_plan(source, compiled, columns, as_series)
        if len(frame) == 0:
            yield frame
        for start in range(0, len(frame), chunksize):
            yield frame.iloc[start:start + chunksize]
        return
    ensure_order_index(source, compiled)
    selected = source.layout.select(columns)
    for chunk in iter_frames(raw_batches(source, compiled, columns), selected, chunksize,
                             as_series=as_series, sort_rows=not compiled.ordered):
        yield source.finish(chunk)


def explain_plan(source: Source, compiled: Compiled, columns: Sequence[Hashable] | None
                 ) -> dict[str, Any]:
    """What the server is asked: ``{"find": {...}}`` or ``{"aggregate": [...]}``."""
    selected = source.layout.select(columns)
    projection = {**selected.projection(), "_id": 0} if columns is not None else None
    out: dict[str, Any]
    if compiled.find is not None:
        out = {"find": {**compiled.find, "projection": projection}}
    else:
        pipe = list(compiled.pipeline)
        if projection is not None:
            pipe.append({"$project": projection})
        out = {"aggregate": pipe}
    out["collection"] = source.collection.name
    if compiled.take is not None:
        out["take"] = list(compiled.take)
    return out


def empty_frame(source: Source, columns: Sequence[Hashable] | None = None,
                as_series: bool | None = None) -> pd.DataFrame | pd.Series:
    """A frame with no rows and the source's columns, dtypes and index levels."""
    return source.finish(decode_frame([], source.layout.select(columns), as_series=as_series))


def spec_of(layout: FrameLayout, name: Hashable, where: str) -> FieldSpec:
    """The column (or named index level) ``name``; KeyError naming the choices."""
    spec = layout.lookup().get(name)
    if spec is None:
        raise KeyError(
            f"{where}: {name!r} is not a stored column or index level; columns: "
            f"{[s.name for s in layout.columns]}"
        )
    return spec
