"""Shared code of the omegacore pandas plugins: frames as MongoDB row documents.

This package is a library, not a plugin. It holds what the pandas kinds (pandas.dfrows,
pandas.dfgroup, lazy frames) share, so none of them copies it:

- ``names``: column and index names as MongoDB-safe field names, and back
- ``dtypes``: dtype descriptions for ``kind_meta``, and back
- ``values``: Python values of object columns as exact BSON values, and back
- ``codecs``: per-column conversion to and from BSON (fast and general paths)
- ``layout``: ``FrameLayout``, the fields of a stored frame and how to rebuild it
- ``encode``: frames to concatenated BSON documents in bulk (``RowEncoder``)
- ``insert``: inserting concatenated documents with one command per chunk
- ``decode``: raw batches back to frames (``decode_frame``, ``iter_frames``)
- ``query``: ``column__op=value`` filters to MongoDB queries (``build_query``)
- ``columns``: ``select_columns`` for kinds that read a frame whole, then project
- ``progress``: progress bars for long work (``progress_bar``)
- ``rows``: the high-level functions: ``write_frame``, ``read_frame``, ``iter_frame_chunks``
- ``lazy``, ``plan``, ``mdataframe``, ``aggregate``, ``merge``: lazy frames (``MDataFrame``)
  whose filters, projections, sorting, windows, groupby and merges run on the server

Importing this package imports nothing heavy; import the modules you need.
"""

__version__ = "0.1.0"
