"""The ``python.model`` backend: any object, written by a serializer and read by a loader.

omegaml 0.18's interface: ``put(model, name, serializer=fn, loader=fn)``.

- ``serializer(store, model, filename, **kwargs)`` writes the model to the local path
  ``filename`` (a temporary file of the store) and returns the path of what to store:
  that path, another path, or (here also) bytes or a readable binary file.
- ``loader(store, infile, filename=..., key=...)`` returns the model read from ``infile``,
  a readable file of the stored bytes; ``key`` is the file's name in GridFS and
  ``filename`` a local path the loader may use.

The defaults are ``joblib.dump`` and ``joblib.load``. The stored bytes go into one GridFS
file (omegaml's layout). Loading with joblib runs pickle code, as any loader may run code:
load only from stores whose writers you trust (docs/security.md).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

from omegacore import BaseBackend, MetadataBase
from omegacore.specs import load_object
from omegacore.validation import check_options

from omegacore_python_model import KIND

Serializer = Callable[..., Any]
Loader = Callable[..., Any]
#: kind_meta value for the default serializer and loader
JOBLIB = "joblib"


def joblib_serializer(store: Any, model: Any, filename: str, **kwargs: Any) -> str:
    """The default serializer: ``joblib.dump(model, filename)``."""
    import joblib

    joblib.dump(model, filename)
    return filename


def joblib_loader(store: Any, infile: Any, filename: str | None = None, **kwargs: Any) -> Any:
    """The default loader: ``joblib.load(infile)`` (runs pickle code)."""
    import joblib

    return joblib.load(infile)


def import_path(func: Callable[..., Any]) -> str | None:
    """``"module:qualname"`` if ``func`` can be imported back by that path, else None.

    Lambdas, closures and methods of instances cannot; module-level functions can.
    """
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not module or not qualname or "<" in qualname or module == "__main__":
        return None
    path = f"{module}:{qualname}"
    try:
        return path if load_object(path) is func else None
    except (ImportError, AttributeError, ValueError):
        return None


def _describe(func: Callable[..., Any]) -> str:
    return import_path(func) or getattr(func, "__qualname__", None) or repr(func)


class PythonModelBackend(BaseBackend):
    """Any object, stored through a serializer and read through a loader (joblib default).

    put: ``serializer=`` and ``loader=`` (omegaml's signatures, see the module doc). A
    loader that can be imported by name (a module-level function) is recorded, so that
    ``get(name)`` uses it; otherwise pass ``loader=`` to ``get``, or joblib is used, as in
    omegaml.
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, serializer: Serializer | None = None,
                 loader: Loader | None = None, **kwargs: Any) -> bool:
        """Any object, when ``put`` is given a serializer or a loader."""
        return serializer is not None or loader is not None

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        serializer: Serializer | None = None,
        loader: Loader | None = None,
        **kwargs: Any,
    ) -> MetadataBase:
        """Serialize ``obj`` and stream the result into GridFS as ``name`` (replacing it)."""
        check_options(kwargs, ("attributes", "serializer", "loader"), f"{KIND} put()")
        for label, func in (("serializer", serializer), ("loader", loader)):
            if func is not None and not callable(func):
                raise TypeError(f"{label}= must be a function, got {type(func).__name__}")
        serializer = serializer or joblib_serializer
        kind_meta = {
            "serializer": JOBLIB if serializer is joblib_serializer else _describe(serializer),
            "loader": JOBLIB if loader in (None, joblib_loader) else import_path(loader),
        }
        key = self.store.object_store_key(name, "model")
        scratch = os.path.join(self.store.tmppath, key)
        try:
            # the serializer runs before anything is written: if it fails, nothing is
            result = serializer(self.store, obj, scratch)
            data, opened = _serialized(result, serializer)
            try:
                with self.stage(name, attributes, kind_meta=kind_meta) as staged:
                    staged.put_file(data, ext="model")
            finally:
                if opened:
                    data.close()
        finally:
            if os.path.exists(scratch):
                os.remove(scratch)
        return staged.meta

    def get(
        self,
        name: str,
        version: int = -1,
        meta: MetadataBase | None = None,
        loader: Loader | None = None,
        **kwargs: Any,
    ) -> Any:
        """The model, read by ``loader``, else by the recorded loader, else by joblib."""
        check_options(kwargs, ("loader",), f"{KIND} get()")
        meta = self.metadata(name, meta)
        kind_meta = meta.kind_meta or {}
        recorded = kind_meta.get("loader")
        if loader is None and recorded and recorded != JOBLIB:
            loader = load_object(recorded)
        chosen = loader or joblib_loader
        with self.open_file(meta) as stream:
            key = stream.filename or self.store.object_store_key(name, "model")
            try:
                return chosen(self.store, stream, filename=os.path.join(self.store.tmppath, key),
                              key=key)
            except Exception as exc:
                custom = kind_meta.get("serializer") not in (None, JOBLIB)
                if loader is None and custom:
                    raise ValueError(
                        f"{name!r} was stored by the serializer {kind_meta['serializer']} and "
                        f"joblib cannot read it ({type(exc).__name__}: {exc}); pass the "
                        "matching loader: store.get(name, loader=...)"
                    ) from exc
                raise


def _serialized(result: Any, serializer: Serializer) -> tuple[Any, bool]:
    """(what to stream into GridFS, whether it was opened here) from a serializer's result."""
    if isinstance(result, (str, os.PathLike)):
        if not os.path.isfile(result):
            raise FileNotFoundError(
                f"the serializer {_describe(serializer)} returned {os.fspath(result)!r}, "
                "which is not a file; it must write the model and return the file's path"
            )
        return open(result, "rb"), True  # noqa: SIM115 - closed by the caller
    if isinstance(result, (bytes, bytearray, memoryview)):
        return io.BytesIO(result), False
    if callable(getattr(result, "read", None)):
        return result, False
    raise TypeError(
        f"the serializer {_describe(serializer)} returned {type(result).__name__}; it must "
        "return the path of the file it wrote (or bytes, or a binary file)"
    )
