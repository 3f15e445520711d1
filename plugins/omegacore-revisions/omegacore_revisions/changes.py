"""Changesets and the states they build, as pandas frames (no store involved).

A changeset is a frame with two more columns, as omegaml 0.18 writes them: ``_delete_``
(the row is removed) and ``_om#revision`` (the revision it belongs to). Applying one
merges it into a state by index: rows with a known label are updated, new labels are
inserted, rows flagged ``_delete_`` are removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

#: the column flagging rows to remove (omegaml's name)
DELETE = "_delete_"
#: the column holding a row's revision (omegaml's name)
REVISION = "_om#revision"
INTERNAL = (DELETE, REVISION)


def as_changeset(frame: pd.DataFrame, revision: int, delete: bool) -> pd.DataFrame:
    """``frame`` with the changeset columns (``delete`` where it has no ``_delete_``)."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"revisions keep DataFrames, not {type(frame).__name__}")
    if frame.index.has_duplicates:
        raise ValueError("a changeset is merged by index: its index labels must be unique "
                         "(de-duplicate, or reset_index() to number the rows)")
    out = frame.copy()
    if DELETE in out.columns:
        if out[DELETE].isna().any():
            raise ValueError(f"the {DELETE!r} column must be True or False in every row")
        out[DELETE] = out[DELETE].astype(bool)
    else:
        out[DELETE] = bool(delete)
    out[REVISION] = int(revision)
    return out


def check_columns(state: pd.DataFrame, changeset: pd.DataFrame) -> None:
    """Raise ValueError unless the changeset has the stored columns (and no others)."""
    stored = [c for c in state.columns if c not in INTERNAL]
    given = [c for c in changeset.columns if c not in INTERNAL]
    if sorted(map(str, given)) != sorted(map(str, stored)):
        raise ValueError(
            f"a changeset must have the stored columns {stored}; given {given}. Put with "
            "append=False to start the revisions again with other columns")


def apply(state: pd.DataFrame, changeset: pd.DataFrame, trace: bool = False,
          sort: bool = False) -> pd.DataFrame:
    """``state`` with ``changeset`` merged in by index.

    Updated rows keep their place and new rows follow (``sort=True``: by index, as
    omegaml rebuilds earlier revisions). ``trace=True`` keeps deleted rows, flagged.
    """
    flagged = changeset[DELETE].astype(bool)
    rows = changeset if trace else changeset[~flagged]
    columns = list(state.columns)
    out = state.copy()
    known = rows.index.isin(out.index)
    if known.any():
        updates = rows[known]
        for column in columns:
            out.loc[updates.index, column] = updates[column].to_numpy()
            out[column] = out[column].astype(state[column].dtype)
    if (~known).any():
        out = pd.concat([out, rows[~known][columns].astype(state.dtypes.to_dict())])
    if not trace and flagged.any():
        out = out.drop(index=changeset.index[flagged], errors="ignore")
    return out.sort_index(kind="stable") if sort else out


def replay(changesets: Iterable[pd.DataFrame], trace: bool = False) -> pd.DataFrame:
    """The state the changesets (revision 0 first) build, rows in index order."""
    state: pd.DataFrame | None = None
    for changeset in changesets:
        if state is None:
            first = changeset if trace else changeset[~changeset[DELETE].astype(bool)]
            state = first.sort_index(kind="stable")
        else:
            state = apply(state, changeset, trace=trace, sort=True)
    if state is None:
        raise ValueError("there are no changesets to build a state from")
    return state


def clean(frame: Any, trace: bool = False) -> Any:
    """``frame`` without the changeset columns (kept with ``trace=True``)."""
    if trace or not isinstance(frame, pd.DataFrame):
        return frame
    return frame.drop(columns=[c for c in INTERNAL if c in frame.columns])
