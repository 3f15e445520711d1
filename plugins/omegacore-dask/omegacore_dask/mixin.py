"""``mdf.to_dask()``: a lazy frame as a Dask DataFrame (a lazy-frame mixin).

The lazy frame's filters and columns become each partition's query and projection; the
rows are read by the Dask workers, one row-id range per partition. Only what a partition
can compute alone is taken over (filters, columns): a lazy frame that sorts, slices,
groups or merges is refused with a clear error. Heavy libraries are imported when
``to_dask`` runs.
"""

from __future__ import annotations

from typing import Any


class DaskMixin:
    """Adds ``to_dask`` to lazy frames (``omega_mdf_mixins``)."""

    def to_dask(self, chunksize: int | None = None, npartitions: int | None = None) -> Any:
        """This lazy frame as a ``dask.dataframe`` (reads nothing yet).

        chunksize: rows per partition (default 250,000), or ``npartitions`` partitions.
        """
        from omegacore.filters import all_of
        from omegacore_pandas.plan import Match

        from omegacore_dask.partitions import check_partitioning
        from omegacore_dask.read import ROW_KINDS, rows_frame

        check_partitioning(chunksize, npartitions)
        source = self._source  # type: ignore[attr-defined]
        stages = self._stages  # type: ignore[attr-defined]
        store = source.store
        if store is None or not source.stored:
            raise ValueError(
                "to_dask() reads stored frames: open one with store.getl(name); a frame "
                "over a bare collection or a merge cannot be split into partitions"
            )
        if getattr(self, "_squeeze", None) is not None or any(
            not isinstance(stage, Match) for stage in stages
        ):
            raise ValueError(
                "to_dask() takes over filters and columns only; sort, slice or group the "
                "Dask frame instead (e.g. store.getl(name, x__gt=1).to_dask().head(5))"
            )
        meta = store.metadata(source.name)
        if meta is None or meta.kind not in ROW_KINDS:
            raise ValueError(f"{source.name!r} is no longer stored as rows; open it again")
        # the partitions read committed row ranges only (no need for source.visible)
        query = all_of(*(stage.filter for stage in stages))
        columns = self._read_columns()  # type: ignore[attr-defined]
        ddf = rows_frame(store, meta, query, columns, chunksize, npartitions)
        if getattr(self, "_as_series", False) and ddf.ndim == 2:
            return ddf[ddf.columns[0]]
        return ddf
