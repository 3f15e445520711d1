"""omegacore-sklearn: scikit-learn estimators and pipelines in GridFS (kind ``sklearn.joblib``)."""

KIND = "sklearn.joblib"
