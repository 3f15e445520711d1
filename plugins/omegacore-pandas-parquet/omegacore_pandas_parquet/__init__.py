"""The ``pandas.parquet`` kind: DataFrames as compressed Parquet row groups in GridFS."""

from __future__ import annotations

#: the kind this distribution stores
KIND = "pandas.parquet"

__all__ = ["KIND"]
