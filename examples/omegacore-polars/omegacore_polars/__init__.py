"""omegacore-polars: polars DataFrames in an omegacore store, as Parquet files in GridFS.

Importing this package imports neither polars nor omegacore's store; the backend is
loaded by the store the first time a polars object is stored or read.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: the kind name written to the metadata of every object this plugin stores
KIND = "polars.parquet"

__all__ = ["KIND", "__version__"]
