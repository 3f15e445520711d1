"""Filters on grouped frames: which documents, then which rows of them."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from omegacore_pandas.names import ID_FIELD
from omegacore_pandas.query import (
    UnknownOperator,
    build_query,
    collection_probe,
    combine,
    resolve_key,
)
from pymongo.collection import Collection

from omegacore.filters import ensure_no_operators
from omegacore_pandas_dfgroup.layout import (
    DATA_FIELD,
    GroupLayout,
)


# ------------------------------------------------------------------------------------------
# querying
# ------------------------------------------------------------------------------------------
@dataclass
class GroupQuery:
    """A filter split by where it applies.

    documents: a filter on the group documents (key values, and a pre-selection of the
        documents holding a matching row).
    rows: a filter on single rows (the row fields, relative to a row element), or {}.
    """

    documents: dict[str, Any]
    rows: dict[str, Any]

    def pipeline(self) -> list[dict[str, Any]]:
        """The aggregation that returns each matching row as ``{keys..., _data: {row}}``."""
        stages: list[dict[str, Any]] = []
        if self.documents:
            stages.append({"$match": self.documents})
        stages.append({"$unwind": "$" + DATA_FIELD})
        stages.append({"$match": prefixed(self.rows)})
        return stages


def build_group_query(criteria: Mapping[Hashable, Any] | None, layout: GroupLayout,
                      trusted: bool = False, where: str = "filter",
                      collection: Collection | None = None) -> GroupQuery:
    """The filters for ``column__op=value`` criteria on a grouped frame.

    Criteria on key columns apply to the group documents, criteria on the other columns
    and on index levels to single rows (only matching rows are returned). With
    ``trusted=True``, raw top-level MongoDB operators apply to the group documents as
    stored. The operators are those of ``omegacore_pandas.query``; with ``collection``,
    sub-field filters and comparisons on object columns are checked against the stored
    groups (see ``omegacore_pandas.query.Probe``).
    """
    if not criteria:
        return GroupQuery({}, {})
    key_probe = row_probe = None
    if collection is not None:
        key_probe = collection_probe(collection)

        def row_probe(query: dict[str, Any]) -> bool:
            assert key_probe is not None
            return key_probe({DATA_FIELD: {"$elemMatch": query}})

    ensure_no_operators(dict(criteria), where, trusted=trusted)
    key_layout, row_layout = layout.key_layout(), layout.row_layout()
    key_names, row_names = key_layout.lookup(), row_layout.lookup()
    on_keys: dict[Hashable, Any] = {}
    on_rows: dict[Hashable, Any] = {}
    raw: list[dict[str, Any]] = []
    for key, value in criteria.items():
        if trusted and isinstance(key, str) and key.startswith("$"):
            raw.append({key: value})
            continue
        try:
            resolve_key(key, key_names, False, where, key_probe)
        except UnknownOperator:
            raise
        except ValueError:
            pass
        else:
            on_keys[key] = value
            continue
        try:
            resolve_key(key, row_names, trusted, where, row_probe)
        except UnknownOperator:
            raise
        except ValueError:
            known = [s.name for s in layout.frame.columns] + [
                s.name for s in layout.frame.index if s.name is not None]
            raise ValueError(
                f"{where}: {key!r} does not name a stored column or index level; use one "
                f"of {known}, optionally with __<op> (e.g. __gt, __in, __contains)"
            ) from None
        on_rows[key] = value
    key_query = build_query(on_keys, key_layout, trusted=trusted, where=where, probe=key_probe)
    row_query = build_query(on_rows, row_layout, trusted=trusted, where=where, probe=row_probe)
    documents = [key_query, *raw]
    if row_query:
        elements = element_query(row_query)
        if elements is not None:
            documents.append({DATA_FIELD: {"$elemMatch": elements}})
    return GroupQuery(combine(documents), row_query)


def document_filter(query: GroupQuery) -> dict[str, Any]:
    """One filter on group documents: the documents that hold at least one matching row.

    Row conditions become ``_data: {$elemMatch: ...}`` (what omegaml's ``rebuild_params``
    returns, with the whole row condition matched by one element).
    """
    if not query.rows:
        return query.documents
    elements = element_query(query.rows)
    if elements is not None:
        return query.documents  # the $elemMatch is in there already
    return combine([query.documents, {DATA_FIELD: {"$elemMatch": query.rows}}])


def prefixed(query: Mapping[str, Any], prefix: str = DATA_FIELD + ".") -> dict[str, Any]:
    """A row filter rewritten for unwound documents (row fields under ``_data.``).

    ``_id`` stays the document's own field: the query module uses ``_id: {$exists:
    false}`` as its never-true condition, which must stay never true.
    """
    out: dict[str, Any] = {}
    for key, value in query.items():
        if key in ("$and", "$or", "$nor"):
            out[key] = [prefixed(clause, prefix) for clause in value]
        elif key.startswith("$") or key == ID_FIELD:
            out[key] = value
        else:
            out[prefix + key] = value
    return out


def element_query(query: Mapping[str, Any]) -> dict[str, Any] | None:
    """``query`` as plain field conditions for ``$elemMatch``, or None if it has operators
    that cannot be written so (``$or``, ``$nor``, conflicting conditions).

    Some MongoDB-wire servers (SecantusDB) accept only field conditions in ``$elemMatch``;
    a query that is not plain is then applied to the unwound rows only.
    """
    out: dict[str, Any] = {}
    for key, value in query.items():
        if key == "$and":
            for clause in value:
                sub = element_query(clause)
                if sub is None:
                    return None
                for field, cond in sub.items():
                    if not _merge_into(out, field, cond):
                        return None
        elif key.startswith("$") or key == ID_FIELD:
            return None
        elif not _merge_into(out, key, value):
            return None
    return out


def _merge_into(out: dict[str, Any], field: str, cond: Any) -> bool:
    if field not in out:
        out[field] = cond
        return True
    old = out[field]
    if _is_operator_doc(old) and _is_operator_doc(cond) and not set(old) & set(cond):
        out[field] = {**old, **cond}
        return True
    return False


def _is_operator_doc(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(
        isinstance(k, str) and k.startswith("$") for k in value)
