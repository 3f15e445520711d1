"""Selecting columns of a frame that was read whole (kinds that cannot project on the server)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import pandas as pd


def select_columns(
    frame: pd.DataFrame, columns: Sequence[Hashable] | None, name: str
) -> pd.DataFrame:
    """``frame[columns]`` in the given order; a missing column is a KeyError listing them all."""
    if columns is None:
        return frame
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(
            f"{name!r} has no columns {missing}; its columns are {list(frame.columns)}"
        )
    return frame[list(columns)]
