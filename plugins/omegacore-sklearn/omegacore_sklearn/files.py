"""scikit-learn models as ``.joblib`` files for ``omegacore put`` and ``omegacore get``.

Loading a joblib file runs the code it names, like any pickle: put only files you trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_joblib(path: Path) -> Any:
    """Load a model saved with ``joblib.dump``; refuses anything but an estimator."""
    import joblib
    from sklearn.base import BaseEstimator

    try:
        model = joblib.load(path)
    except (EOFError, KeyError, IndexError, ValueError, TypeError) as exc:
        raise ValueError(f"not a valid joblib file ({type(exc).__name__}: {exc})") from exc
    except ModuleNotFoundError as exc:
        raise ValueError(f"the model needs the module {exc.name!r}, which is not installed"
                         ) from exc
    except Exception as exc:  # noqa: BLE001 - unpickling raises any type for damaged files
        if type(exc).__name__ == "UnpicklingError":
            raise ValueError(f"not a valid joblib file ({exc})") from exc
        raise
    if not isinstance(model, BaseEstimator):
        raise ValueError(f"holds a {type(model).__name__}, not a scikit-learn estimator")
    return model


def write_joblib(obj: Any, path: Path) -> None:
    """Save a model with ``joblib.dump`` (load it with ``joblib.load``)."""
    import joblib

    joblib.dump(obj, path)
