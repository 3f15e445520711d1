"""The ``sklearn.joblib`` backend: a scikit-learn estimator as one joblib file in GridFS.

A put serializes the estimator with ``joblib.dump`` into memory and then streams those
bytes into a GridFS file; a get unpickles with ``joblib.load`` while a background thread
fetches the next chunks of the file (see ``omegacore_sklearn.prefetch``). The metadata's
``kind_meta`` records what the model was saved with, so that loading it under another
scikit-learn version can warn::

    {"format": "joblib", "estimator": "sklearn.pipeline.Pipeline", "compress": 0,
     "nbytes": 12345, "sklearn_version": "1.9.1", "joblib_version": "1.6.0",
     "python_version": "3.11.7", "_om_backend_version": "1"}

Loading runs pickle code: whoever can write to the store can run code in every process
that loads a model from it (see docs/security.md).
"""

from __future__ import annotations

import io
import pickle
import platform
from typing import Any

import joblib
import sklearn
from omegacore import BaseBackend
from omegacore.documents import MetadataBase
from omegacore.errors import warn
from sklearn.base import BaseEstimator

from omegacore_sklearn import KIND
from omegacore_sklearn.prefetch import PrefetchReader

#: the layout this backend writes, recorded as kind_meta["format"]
FORMAT = "joblib"
#: read buffer between the GridFS chunks and joblib's unpickler
READ_BUFFER = 1024 * 1024


def _qualname(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _compress_meta(compress: Any) -> Any:
    """``compress`` as a value MongoDB can hold (tuples become lists)."""
    if compress is None:
        return 0
    if isinstance(compress, tuple):
        return list(compress)
    return compress


def _check_compress(compress: Any) -> None:
    """Raise ValueError for a ``compress`` value joblib would refuse, before anything is written.

    joblib's own rules decide (int 0-9, bool, method name such as ``"zlib"`` or ``"lz4"``,
    or a ``(method, level)`` tuple); they are applied by dumping a tiny object.
    """
    try:
        joblib.dump(0, io.BytesIO(), compress=compress)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"invalid compress={compress!r} for {KIND}: {exc}. Use an int 0-9 (0 is off), "
            "a method name such as 'zlib', 'gzip', 'lzma' or 'lz4' (needs the lz4 package), "
            "or a (method, level) tuple."
        ) from exc


class SklearnJoblibBackend(BaseBackend):
    """scikit-learn estimators and pipelines, serialized with joblib into one GridFS file.

    put kwargs: ``compress`` (joblib's compress argument, default 0: uncompressed).
    Loading a model runs pickle code; only load from stores whose writers you trust.
    Loading under a scikit-learn version other than the one that saved the model emits
    a ``UserWarning`` naming both versions.
    """

    KIND = KIND

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        """True for scikit-learn estimators (``BaseEstimator`` instances with ``fit``)."""
        return isinstance(obj, BaseEstimator) and callable(getattr(obj, "fit", None))

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        compress: Any = 0,
        **kwargs: Any,
    ) -> MetadataBase:
        """Store the estimator ``obj`` under ``name``; return its committed metadata.

        The estimator is serialized completely before anything is written, so an estimator
        that cannot be pickled (e.g. one holding a lambda) leaves the store unchanged.
        """
        if kwargs:
            raise TypeError(
                f"unexpected keyword arguments for {KIND}: {', '.join(sorted(kwargs))}; "
                "it accepts attributes=, replace= and compress="
            )
        if not self.supports(obj, name):
            raise TypeError(
                f"{KIND} stores scikit-learn estimators and pipelines (instances of "
                f"sklearn.base.BaseEstimator with a fit method), got {_qualname(obj)}"
            )
        _check_compress(compress)
        buffer = io.BytesIO()
        try:
            joblib.dump(obj, buffer, compress=compress)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise TypeError(
                f"cannot serialize {_qualname(obj)} with joblib: {exc}. Remove attributes "
                "that cannot be pickled (lambdas, local functions, open files, locks, "
                "connections) from the estimator and its steps; nothing was stored."
            ) from exc
        nbytes = buffer.tell()
        buffer.seek(0)
        kind_meta = {
            "format": FORMAT,
            "estimator": _qualname(obj),
            "compress": _compress_meta(compress),
            "nbytes": nbytes,
            "sklearn_version": sklearn.__version__,
            "joblib_version": joblib.__version__,
            "python_version": platform.python_version(),
            # omegaml reads a model marked so as one joblib file (its backend version 1)
            "_om_backend_version": "1",
        }
        with self.stage(name, attributes, kind_meta=kind_meta) as staged:
            staged.put_file(buffer, ext="joblib")
        return staged.meta

    def get_object_as_python(self, meta: MetadataBase, version: int = -1) -> Any:
        """The stored joblib file, readable (``.read()``), as omegaml's force_python gives it.

        Nothing is unpickled: this is the way to copy a model's bytes without loading it.
        """
        return self.open_file(meta)

    def get(
        self, name: str, version: int = -1, meta: MetadataBase | None = None, **kwargs: Any
    ) -> Any:
        """Load the estimator stored under ``name`` (this runs pickle code, see the docs)."""
        if kwargs:
            raise TypeError(
                f"unexpected keyword arguments for getting a {KIND} object: "
                f"{', '.join(sorted(kwargs))}"
            )
        meta = self.metadata(name, meta)
        kind_meta = meta.kind_meta or {}
        saved = kind_meta.get("sklearn_version")
        if saved and saved != sklearn.__version__:
            warn(
                f"{name!r} was saved with scikit-learn {saved} and is loaded with scikit-learn "
                f"{sklearn.__version__}; loading may fail or predictions may differ. Fit and "
                f"put the model again under scikit-learn {sklearn.__version__}, or load it "
                f"with scikit-learn=={saved}."
            )
        with self.open_file(meta) as stream:
            reader = PrefetchReader(stream)
            try:
                return joblib.load(io.BufferedReader(reader, buffer_size=READ_BUFFER))
            finally:
                reader.close()
