"""Entry point of omegacore-sklearn: declares the ``sklearn.joblib`` kind.

Only import paths and type names are given here, so listing plugins or opening a store
does not import scikit-learn; the backend is imported when an estimator is first seen.
"""

from __future__ import annotations

from omegacore import FileFormat, KindSpec, hookimpl

from omegacore_sklearn import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    """The ``sklearn.joblib`` kind: fitted or unfitted estimators, joblib bytes in GridFS."""
    return [
        KindSpec(
            KIND,
            "omegacore_sklearn.backend:SklearnJoblibBackend",
            types=("sklearn.base.BaseEstimator",),
            priority=50,
            description="scikit-learn estimators and pipelines, joblib-serialized into GridFS",
        )
    ]


@hookimpl
def omega_file_formats() -> list[FileFormat]:
    """``.joblib`` files hold models (loading one runs its code: trusted files only)."""
    return [
        FileFormat((".joblib",), KIND, reader="omegacore_sklearn.files:read_joblib",
                   writer="omegacore_sklearn.files:write_joblib",
                   types=("sklearn.base.BaseEstimator",),
                   description="scikit-learn estimator (joblib.dump)")
    ]
