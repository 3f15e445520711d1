"""python.model: conformance, serializer/loader pairs as omegaml takes them, errors."""

from __future__ import annotations

import io
import subprocess
import sys
from fractions import Fraction
from typing import Any

import joblib
import pytest
from bson import ObjectId
from omegacore import OmegaStore
from omegacore_testing import KindConformance, data_footprint
from omegacore_testing.crash import CrashConformance
from sklearn.linear_model import LinearRegression

KIND = "python.model"


def wrap_serializer(store: Any, model: Any, filename: str, **kwargs: Any) -> str:
    """omegaml's serializer signature: write the model to ``filename``, return the path."""
    joblib.dump({"wrapped": model}, filename)
    return filename


def wrap_loader(store: Any, infile: Any, filename: str | None = None, **kwargs: Any) -> Any:
    """omegaml's loader signature: read the model from ``infile``."""
    return joblib.load(infile)["wrapped"]


class TestPythonModelConformance(KindConformance):
    kind = KIND
    prefix = "models/"
    put_kwargs = {"serializer": wrap_serializer, "loader": wrap_loader}

    def make_object(self, variant: int) -> Any:
        return Fraction(variant + 1, 7)

    def unsupported_objects(self) -> list[Any]:
        return []  # with a serializer, every object is this kind's


class TestPythonModelCrashes(CrashConformance):
    """Killed puts (the writing processes get joblib, the default pair: functions of a
    test module would not import there)."""

    kind = KIND
    prefix = "models/"
    put_kwargs = {"kind": KIND}

    def make_object(self, variant: int) -> Any:
        return {"weights": list(range(variant, variant + 1000)), "name": f"m{variant}"}


@pytest.fixture
def models(store_factory: Any) -> OmegaStore:
    return store_factory(prefix="models/")


def test_joblib_by_default(models: OmegaStore) -> None:
    lr = LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    meta = models.put(lr, "generic", kind=KIND)
    assert meta.kind == KIND and meta.gridfile_id is not None
    assert meta.kind_meta == {"serializer": "joblib", "loader": "joblib"}
    got = models.get("generic")
    assert type(got) is LinearRegression and got.coef_.tolist() == lr.coef_.tolist()
    models.put({"not": "a model"}, "dictmodel", kind=KIND)
    assert models.get("dictmodel") == {"not": "a model"}
    file_id = models.metadata("dictmodel").gridfile_id
    with models.gridfs_bucket.open_download_stream(file_id) as f:
        assert joblib.load(f) == {"not": "a model"}  # a plain joblib file in GridFS


def test_serializer_and_loader_pair(models: OmegaStore) -> None:
    meta = models.put(Fraction(1, 5), "custom", serializer=wrap_serializer, loader=wrap_loader)
    assert meta.kind == KIND
    assert meta.kind_meta == {"serializer": f"{__name__}:wrap_serializer",
                              "loader": f"{__name__}:wrap_loader"}
    assert models.get("custom") == Fraction(1, 5)  # the recorded loader
    assert models.get("custom", loader=lambda store, infile, **kw: joblib.load(infile)) == {
        "wrapped": Fraction(1, 5)}


def test_loader_arguments(models: OmegaStore) -> None:
    seen: dict[str, Any] = {}

    def loader(store: Any, infile: Any, **kwargs: Any) -> Any:
        seen.update(kwargs, store=store, data=infile.read())
        return "loaded"

    meta = models.put([1, 2], "args", serializer=wrap_serializer)
    assert models.get("args", loader=loader) == "loaded"
    assert seen["store"] is models and sorted(seen) == ["data", "filename", "key", "store"]
    assert seen["key"] == models.fs.get(meta.gridfile_id).filename
    assert seen["filename"].endswith(seen["key"])
    assert joblib.load(io.BytesIO(seen["data"])) == {"wrapped": [1, 2]}


def test_unrecorded_loader_gives_a_clear_error(models: OmegaStore) -> None:
    """A lambda cannot be recorded: get needs loader= again, and says so."""
    def ser(store: Any, model: Any, filename: str, **kw: Any) -> bytes:
        return b"custom:" + str(model).encode()

    models.put(Fraction(2, 3), "lam", serializer=ser,
               loader=lambda store, infile, **kw: Fraction(infile.read()[7:].decode()))
    assert models.metadata("lam").kind_meta["loader"] is None
    with pytest.raises(ValueError, match=r"stored by the serializer .*ser.*pass the matching "
                                         r"loader"):
        models.get("lam")
    got = models.get("lam", loader=lambda store, infile, **kw: Fraction(infile.read()[7:].decode()))
    assert got == Fraction(2, 3)


def test_serializer_results(models: OmegaStore, tmp_path: Any) -> None:
    elsewhere = tmp_path / "model.bin"

    def to_other_path(store: Any, model: Any, filename: str, **kw: Any) -> str:
        elsewhere.write_bytes(b"elsewhere")
        return str(elsewhere)

    def to_file(store: Any, model: Any, filename: str, **kw: Any) -> Any:
        return io.BytesIO(b"a file")

    def read(store: Any, infile: Any, **kw: Any) -> bytes:
        return infile.read()

    models.put(1, "path", serializer=to_other_path)
    assert models.get("path", loader=read) == b"elsewhere" and elsewhere.exists()
    models.put(1, "file", serializer=to_file)
    assert models.get("file", loader=read) == b"a file"


def test_bad_serializers_write_nothing(models: OmegaStore) -> None:
    models.put(Fraction(1, 2), "kept", serializer=wrap_serializer, loader=wrap_loader)
    before = data_footprint(models)
    meta_before = models.metadata("kept")

    def fails(store: Any, model: Any, filename: str, **kw: Any) -> str:
        raise RuntimeError("cannot serialize")

    def returns_nothing(store: Any, model: Any, filename: str, **kw: Any) -> None:
        return None

    def returns_missing(store: Any, model: Any, filename: str, **kw: Any) -> str:
        return filename + ".missing"

    with pytest.raises(RuntimeError, match="cannot serialize"):
        models.put(Fraction(1, 3), "kept", serializer=fails)
    with pytest.raises(TypeError, match="returned NoneType; it must return the path"):
        models.put(Fraction(1, 3), "kept", serializer=returns_nothing)
    with pytest.raises(FileNotFoundError, match="not a file"):
        models.put(Fraction(1, 3), "kept", serializer=returns_missing)
    with pytest.raises(TypeError, match="serializer= must be a function"):
        models.put(Fraction(1, 3), "kept", serializer="joblib")
    with pytest.raises(TypeError, match="argument noversion; it takes attributes"):
        models.put(Fraction(1, 3), "kept", serializer=wrap_serializer, noversion=True)
    assert data_footprint(models) == before
    assert models.metadata("kept").to_mongo() == meta_before.to_mongo()
    assert models.get("kept") == Fraction(1, 2)
    with pytest.raises(TypeError, match="argument serializer; it takes loader"):
        models.get("kept", serializer=wrap_serializer)


def test_chosen_by_serializer_even_for_sklearn_models(models: OmegaStore) -> None:
    """An explicit serializer is honoured (omegaml stored sklearn models as sklearn.joblib
    and ignored it); without one, sklearn models stay sklearn.joblib."""
    lr = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    assert models.put(lr, "ser", serializer=wrap_serializer).kind == KIND
    assert models.put(lr, "plain").kind == "sklearn.joblib"
    assert models.put({"a": 1}, "data").kind == "python.data"
    assert type(models.get("ser", loader=wrap_loader)) is LinearRegression


def test_reads_models_written_by_omegaml(models: OmegaStore) -> None:
    """omegaml's layout: kind python.model, kind_meta {'_om_backend_version': '1'}, a joblib
    file in GridFS; no loader is recorded, so joblib reads it (or the loader= given)."""
    file_id = ObjectId()
    buffer = io.BytesIO()
    joblib.dump({"wrapped": Fraction(1, 9)}, buffer)
    buffer.seek(0)
    models.gridfs_bucket.upload_from_stream_with_id(file_id, "0" * 40, buffer)
    models._metadata_collection.insert_one({
        "name": "legacy", "bucket": models.bucket, "prefix": models.prefix, "kind": KIND,
        "kind_meta": {"_om_backend_version": "1"}, "attributes": {}, "s3file": {}, "uri": "",
        "gridfile": file_id,
    })
    assert models.get("legacy") == {"wrapped": Fraction(1, 9)}
    assert models.get("legacy", loader=wrap_loader) == Fraction(1, 9)
    with pytest.raises(TypeError, match="cannot return kind python.model"):
        models.get("legacy", force_python=True)


def test_listed_with_version(models: OmegaStore) -> None:
    info = {i.distribution: i for i in models.plugins.info()}
    assert info["omegacore-python-model"].version == "0.1.0"
    assert [k.kind for k in info["omegacore-python-model"].kinds] == [KIND]
    assert models.plugins.kind(KIND).priority == 55


def test_imports_are_light() -> None:
    code = (
        "import sys, omegacore_python_model.plugin; a = 'omegacore_python_model.backend' in "
        "sys.modules; import omegacore_python_model.backend; print(a, 'joblib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
