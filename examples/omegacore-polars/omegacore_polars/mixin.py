"""Store method added by omegacore-polars (no polars import here)."""

from __future__ import annotations

from typing import Any

from omegacore_polars import KIND


class PolarsStoreMixin:
    """Adds ``put_polars`` to the store; overrides nothing, so it needs no ``super()`` call."""

    def put_polars(self, df: Any, name: str, attributes: dict[str, Any] | None = None) -> Any:
        """Store the polars DataFrame ``df`` under ``name`` as kind ``polars.parquet``.

        Same as ``store.put(df, name, kind="polars.parquet")``: the store's put hooks run and
        an earlier object of that name is replaced. Returns the committed metadata.
        """
        put = self.put  # type: ignore[attr-defined]
        return put(df, name, attributes=attributes, kind=KIND)
