"""Entry point of omegacore-python-file: declares the kind.

The backend imports only the standard library and pymongo, so asking it about an
object is cheap; the type names below keep it from being asked about other objects.
"""

from __future__ import annotations

from omegacore import KindSpec, hookimpl

from omegacore_python_file import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    """The ``python.file`` kind: binary files and local paths, streamed into GridFS."""
    return [
        KindSpec(
            KIND,
            "omegacore_python_file.backend:PythonFileBackend",
            # file objects (io's classes, SpooledTemporaryFile before 3.11), local paths
            types=("_io._IOBase", "io.IOBase", "tempfile.SpooledTemporaryFile",
                   "builtins.str", "pathlib.PurePath"),
            priority=30,
            description="binary file objects and local file paths, streamed into GridFS",
        )
    ]
