"""Tests of the sklearn.joblib kind against a real server (fixtures from omegacore-testing)."""

from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
import threading
import warnings
from typing import Any

import gridfs
import joblib
import numpy as np
import pytest
import sklearn
from omegacore import OmegaStore
from omegacore.settings import METADATA_COLLECTION
from omegacore_testing import KindConformance, data_footprint
from omegacore_testing.crash import CrashConformance
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from omegacore_sklearn.prefetch import PrefetchReader

KIND = "sklearn.joblib"


def _data(seed: int = 0, rows: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 4))
    y_reg = X @ np.array([1.5, -2.0, 0.5, 3.0]) + rng.normal(scale=0.1, size=rows)
    y_cls = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y_reg, y_cls


def _same_model(expected: Any, actual: Any) -> None:
    assert type(actual) is type(expected)
    assert actual.get_params(deep=False).keys() == expected.get_params(deep=False).keys()
    X, _, _ = _data(seed=99, rows=50)
    np.testing.assert_array_equal(actual.predict(X), expected.predict(X))
    if hasattr(expected, "predict_proba"):
        np.testing.assert_array_equal(actual.predict_proba(X), expected.predict_proba(X))


class _NotAnEstimator:
    """Has fit but is no BaseEstimator: not this kind's business."""

    def fit(self, X: Any, y: Any) -> _NotAnEstimator:
        return self


class _HoldsLambda(BaseEstimator):
    """An estimator that cannot be pickled."""

    def __init__(self) -> None:
        self.transform_fn = lambda x: x

    def fit(self, X: Any, y: Any = None) -> _HoldsLambda:
        return self


class TestSklearnConformance(KindConformance, CrashConformance):
    kind = KIND
    prefix = "models/"

    def make_object(self, variant: int) -> Any:
        X, y, _ = _data(seed=variant, rows=60)
        return LinearRegression().fit(X, y + variant)

    def unsupported_objects(self) -> list[Any]:
        return [object(), {"coef": [1, 2]}, _NotAnEstimator(), LinearRegression]

    def assert_same(self, expected: Any, actual: Any) -> None:
        _same_model(expected, actual)
        np.testing.assert_array_equal(actual.coef_, expected.coef_)


@pytest.fixture
def models(store_factory: Any) -> OmegaStore:
    return store_factory(prefix="models/")


def _estimators() -> dict[str, Any]:
    X, y_reg, y_cls = _data()
    return {
        "linreg": LinearRegression().fit(X, y_reg),
        "forest": RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(
            X, y_cls
        ),
        "pipeline": Pipeline(
            [("scale", StandardScaler()), ("logreg", LogisticRegression())]
        ).fit(X, y_cls),
    }


@pytest.mark.parametrize("which", ["linreg", "forest", "pipeline"])
def test_identical_predictions(models: OmegaStore, which: str) -> None:
    model = _estimators()[which]
    meta = models.put(model, f"m/{which}")
    assert meta.kind == KIND
    loaded = models.get(f"m/{which}")
    assert loaded is not model
    _same_model(model, loaded)
    if which == "pipeline":
        assert [name for name, _ in loaded.steps] == ["scale", "logreg"]
        np.testing.assert_array_equal(loaded.named_steps["scale"].mean_,
                                      model.named_steps["scale"].mean_)


def test_force_python_gives_the_joblib_file(models: OmegaStore) -> None:
    """As omegaml: force_python returns the stored file, readable, without unpickling."""
    model = LinearRegression().fit([[0.0], [1.0]], [1.0, 3.0])
    models.put(model, "lr")
    stream = models.get("lr", force_python=True)
    data = stream.read()
    assert data == models.get_object_as_python(models.metadata("lr")).read()
    assert joblib.load(io.BytesIO(data)).coef_.tolist() == model.coef_.tolist()


def test_unfitted_pipeline_round_trips(models: OmegaStore) -> None:
    pipe = Pipeline([("scale", StandardScaler()), ("logreg", LogisticRegression(C=0.5))])
    models.put(pipe, "unfitted")
    loaded = models.get("unfitted")
    assert loaded.get_params()["logreg__C"] == 0.5
    X, _, y = _data()
    _same_model(pipe.fit(X, y), loaded.fit(X, y))


def test_kind_meta_records_versions(models: OmegaStore) -> None:
    models.put(_estimators()["pipeline"], "versions")
    meta = models.metadata("versions")
    assert meta is not None
    km = meta.kind_meta
    assert km["sklearn_version"] == sklearn.__version__
    assert km["joblib_version"] == joblib.__version__
    assert km["python_version"] == platform.python_version()
    assert km["estimator"] == "sklearn.pipeline.Pipeline"
    assert km["format"] == "joblib"
    assert km["compress"] == 0
    files = models.mongodb[f"{models.fs_collection}.files"]
    assert files.find_one({"_id": meta.gridfile_id})["length"] == km["nbytes"]


def test_other_sklearn_version_warns(models: OmegaStore) -> None:
    model = _estimators()["forest"]
    models.put(model, "old")
    # the stored metadata is edited as another installation would have written it
    result = models.mongodb[METADATA_COLLECTION].update_one(
        {"name": "old", "prefix": "models/", "bucket": models.bucket},
        {"$set": {"kind_meta.sklearn_version": "0.24.2"}},
    )
    assert result.modified_count == 1
    with pytest.warns(UserWarning, match=r"scikit-learn 0\.24\.2") as record:
        loaded = models.get("old")
    message = str(record[0].message)
    assert sklearn.__version__ in message and "'old'" in message
    assert record[0].filename == __file__, "the warning should point at the caller's get()"
    _same_model(model, loaded)


def test_same_version_does_not_warn(models: OmegaStore) -> None:
    models.put(_estimators()["linreg"], "current")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        models.get("current")


@pytest.mark.parametrize("compress", [3, ("zlib", 1), True])
def test_compress(models: OmegaStore, compress: Any) -> None:
    model = _estimators()["forest"]
    plain = models.put(model, "plain")
    packed = models.put(model, "packed", compress=compress)
    assert packed.kind_meta["compress"] == (
        list(compress) if isinstance(compress, tuple) else compress
    )
    assert packed.kind_meta["nbytes"] < plain.kind_meta["nbytes"]
    _same_model(model, models.get("packed"))


@pytest.mark.parametrize("compress", [42, "no-such-method", ("zlib", 99)])
def test_bad_compress_writes_nothing(models: OmegaStore, compress: Any) -> None:
    before = data_footprint(models)
    with pytest.raises(ValueError, match="invalid compress"):
        models.put(_estimators()["linreg"], "bad", compress=compress)
    assert not models.exists("bad")
    assert data_footprint(models) == before


def test_unpicklable_estimator_keeps_previous(models: OmegaStore) -> None:
    model = _estimators()["linreg"]
    models.put(model, "kept")
    before = data_footprint(models)
    with pytest.raises(TypeError, match="cannot serialize .*_HoldsLambda.*nothing was stored"):
        models.put(_HoldsLambda(), "kept")
    assert data_footprint(models) == before
    _same_model(model, models.get("kept"))


def test_explicit_kind_refuses_non_estimators(models: OmegaStore) -> None:
    before = data_footprint(models)
    with pytest.raises(TypeError, match="stores scikit-learn estimators"):
        models.put({"not": "a model"}, "dict", kind=KIND)
    with pytest.raises(TypeError, match="unexpected keyword arguments .*: colour"):
        models.put(_estimators()["linreg"], "x", colour="red")
    assert data_footprint(models) == before
    assert models.list() == []


def test_chosen_without_kind(models: OmegaStore) -> None:
    assert models.get_backend_byobj(_estimators()["pipeline"]).KIND == KIND
    assert models.plugins.kind(KIND).priority == 50


def test_listing_plugins_imports_no_sklearn() -> None:
    code = (
        "import sys\n"
        "from omegacore import PluginRegistry\n"
        "import omegacore_sklearn.plugin\n"
        "kinds = PluginRegistry().kinds()\n"
        f"assert {KIND!r} in kinds, kinds\n"
        "heavy = sorted(m for m in ('sklearn', 'joblib') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "omegacore-sklearn-prefetch"]


def test_prefetch_reader_reads_everything(models: OmegaStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 123)
    file_id = models.gridfs_bucket.upload_from_stream("blob", data)
    with models.gridfs_bucket.open_download_stream(file_id) as stream:
        reader = PrefetchReader(stream, depth=2)
        with io.BufferedReader(reader, buffer_size=100_000) as buffered:
            assert buffered.read(10) == data[:10]
            assert buffered.read() == data[10:]
            assert buffered.read() == b""
    assert _prefetch_threads() == []


def test_prefetch_reader_stops_when_closed_early(models: OmegaStore) -> None:
    file_id = models.gridfs_bucket.upload_from_stream("blob", os.urandom(4 * 1024 * 1024))
    with models.gridfs_bucket.open_download_stream(file_id) as stream:
        reader = PrefetchReader(stream, depth=2)  # the producer blocks on a full queue
        assert io.BufferedReader(reader).read(5)
        reader.close()
    assert _prefetch_threads() == []


def _chunks(models: OmegaStore, name: str) -> tuple[Any, Any]:
    meta = models.metadata(name)
    assert meta is not None
    return models.mongodb[f"{models.fs_collection}.chunks"], meta.gridfile_id


def test_missing_chunk_raises(models: OmegaStore) -> None:
    wide = np.random.default_rng(3).normal(size=(3, 40_000))  # ~1 MB of fitted arrays
    models.put(StandardScaler().fit(wide), "torn")
    chunks, file_id = _chunks(models, "torn")
    assert chunks.count_documents({"files_id": file_id}) > 2
    assert chunks.delete_one({"files_id": file_id, "n": 1}).deleted_count == 1
    with pytest.raises(gridfs.errors.CorruptGridFile):
        models.get("torn")
    assert _prefetch_threads() == []


def test_garbage_data_raises(models: OmegaStore) -> None:
    models.put(_estimators()["pipeline"], "garbage")
    chunks, file_id = _chunks(models, "garbage")
    chunk = chunks.find_one({"files_id": file_id, "n": 0})
    garbage = bytes(len(chunk["data"]))  # zeros: not a pickle
    chunks.update_one({"_id": chunk["_id"]}, {"$set": {"data": garbage}})
    with pytest.raises(Exception) as info:
        models.get("garbage")
    assert not isinstance(info.value, gridfs.errors.CorruptGridFile)
    assert _prefetch_threads() == []
