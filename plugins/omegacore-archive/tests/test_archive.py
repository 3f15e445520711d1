"""Archives on the real server: every kind round trips, unsafe or corrupt archives are
refused before anything is written, a failed import leaves the store as it was."""

from __future__ import annotations

import fractions
import io
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from bson import json_util
from omegacore import DoesNotExist, OmegaStore
from omegacore.cli import main
from omegacore_testing import MixinConformance, data_footprint
from sklearn.linear_model import LinearRegression

from omegacore_archive.archive import MANIFEST, ArchiveError
from omegacore_archive.mixin import ArchiveMixin


class TestArchiveMixin(MixinConformance):
    mixin = ArchiveMixin
    distribution = "omegacore-archive"


@pytest.fixture
def stores(store_factory: Callable[..., OmegaStore]) -> tuple[OmegaStore, OmegaStore]:
    return store_factory(prefix="src/"), store_factory(prefix="dst/")


FRAME = pd.DataFrame({"g": ["a", "b", "a"], "x": [1.5, 2.5, 3.5],
                      "t": pd.date_range("2024-01-01", periods=3, tz="UTC")})


def _model() -> LinearRegression:
    return LinearRegression().fit(np.arange(6.0).reshape(-1, 1), np.arange(6.0) * 3)


OBJECTS: dict[str, tuple[Callable[[], Any], dict[str, Any]]] = {
    "pandas.dfrows": (lambda: FRAME, {}),
    "pandas.serows": (lambda: FRAME.x, {}),
    "pandas.dfgroup": (lambda: FRAME, {"groupby": "g"}),
    "pandas.parquet": (lambda: FRAME, {"as_parquet": True}),
    "pandas.hdf": (lambda: FRAME, {"as_hdf": True}),
    "ndarray.bin": (lambda: np.arange(12.0).reshape(3, 4), {}),
    "python.data": (lambda: {"k": [1, 2], "when": "now"}, {}),
    "sklearn.joblib": (_model, {}),
    "python.file": (lambda: io.BytesIO(b"line\n" * 1000), {}),
    "python.model": (lambda: fractions.Fraction(3, 7), {"kind": "python.model"}),
}


def _same(a: Any, b: Any) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, LinearRegression):
        assert a.coef_.tolist() == b.coef_.tolist()
    elif hasattr(a, "read"):
        assert a.read() == b.read()
    else:
        assert a == b


@pytest.mark.parametrize("kind", sorted(OBJECTS))
@pytest.mark.parametrize("form", ["dir", "obj.tar.gz"])
def test_every_kind_round_trips(stores: tuple[OmegaStore, OmegaStore], tmp_path: Path,
                                kind: str, form: str) -> None:
    src, dst = stores
    make, kwargs = OBJECTS[kind]
    src.put(make(), "obj", attributes={"owner": "ann"}, **kwargs)
    path = src.to_archive("obj", tmp_path / form)
    assert (path / MANIFEST).is_file() if form == "dir" else tarfile.is_tarfile(path)
    meta = dst.from_archive(path, asname="copy")
    assert meta.kind == kind and meta.attributes == {"owner": "ann"}
    _same(src.get("obj"), dst.get("copy"))
    dst.drop("copy")
    assert dst.list() == []


def test_appended_parts_and_uncommitted_rows(stores: tuple[OmegaStore, OmegaStore],
                                             tmp_path: Path) -> None:
    src, dst = stores
    src.put(FRAME, "pq", as_parquet=True)
    src.put(FRAME.set_axis([3, 4, 5]), "pq", as_parquet=True, append=True)
    src.put(FRAME, "rows")
    src.put(FRAME, "rows", append=True)
    for name in ("pq", "rows"):
        dst.from_archive(src.to_archive(name, tmp_path / name), name)
        _same(src.get(name), dst.get(name))
    assert len(dst.get("pq", x__gt=2)) == 4, "the parts' file ids were renamed"


def test_unsafe_members_are_refused(stores: tuple[OmegaStore, OmegaStore],
                                    tmp_path: Path) -> None:
    src, dst = stores
    src.put({"a": 1}, "obj")
    folder = src.to_archive("obj", tmp_path / "good")
    before = data_footprint(dst)
    outside = tmp_path / "outside.txt"

    def tarball(name: str, add: Callable[[tarfile.TarFile], None]) -> Path:
        path = tmp_path / name
        with tarfile.open(path, "w:gz") as tar:
            tar.add(folder / MANIFEST, arcname=MANIFEST)
            add(tar)
        return path

    def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> Any:
        def add(tar: tarfile.TarFile) -> None:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            data = b"" if link else b"evil"
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return add

    cases = {
        "dotdot.tgz": member("../outside.txt"),
        "absolute.tgz": member(str(outside)),
        "symlink.tgz": member("files/0.bin", tarfile.SYMTYPE, "/etc/passwd"),
        "hardlink.tgz": member("files/1.bin", tarfile.LNKTYPE, MANIFEST),
    }
    for name, add in cases.items():
        with pytest.raises(ArchiveError, match="outside the archive|link or special"):
            dst.from_archive(tarball(name, add), "obj")
    assert not outside.exists()
    assert dst.list() == [] and data_footprint(dst) == before


def test_corrupt_or_inconsistent_archives_store_nothing(
        stores: tuple[OmegaStore, OmegaStore], tmp_path: Path) -> None:
    src, dst = stores
    src.put(FRAME, "obj")
    dst.put({"keep": True}, "obj")
    folder = src.to_archive("obj", tmp_path / "a")
    before = data_footprint(dst)
    data = next(folder.rglob("collection.json"))
    data.write_bytes(data.read_bytes()[:-3] + b"1]\n")
    with pytest.raises(ArchiveError, match="does not match its checksum"):
        dst.from_archive(folder, "obj")
    # a manifest that lies about the count fails during the put: rolled back
    folder = src.to_archive("obj", tmp_path / "b")
    manifest = json_util.loads((folder / MANIFEST).read_text())
    manifest["omegacore"]["members"]["src/obj"]["entries"][0]["count"] += 1
    (folder / MANIFEST).write_text(json_util.dumps(manifest))
    with pytest.raises(ArchiveError, match="the manifest says"):
        dst.from_archive(folder, "obj")
    assert dst.get("obj") == [{"keep": True}], "the earlier object is unchanged"
    assert data_footprint(dst) == before, "nothing of the failed import is left"
    with pytest.raises(ArchiveError, match="it is not an archive"):
        dst.from_archive(tmp_path, "obj")
    with pytest.raises(FileExistsError, match="is not an archive directory"):
        src.to_archive("obj", data)
    with pytest.raises(DoesNotExist, match="nothing to export"):
        src.to_archive("missing", tmp_path / "c")


def test_versioned_objects_export_their_versions(store_factory: Callable[..., OmegaStore],
                                                 tmp_path: Path) -> None:
    src = store_factory(prefix="src/")
    src.put({"v": 1}, "cfg", versions=True, tag="first")
    src.put({"v": 2}, "cfg")
    dst = store_factory(prefix="dst/")
    meta = dst.from_archive(src.to_archive("cfg", tmp_path / "cfg.tgz"))
    assert meta.name == "cfg" and dst.get("cfg") == [{"v": 2}]
    assert dst.get("cfg@first") == [{"v": 1}] and dst.get("cfg", version=0) == [{"v": 1}]
    assert [v["tags"] for v in dst.versions("cfg")] == [v["tags"] for v in src.versions("cfg")]
    # under another name, the versions move along
    dst.from_archive(tmp_path / "cfg.tgz", asname="conf")
    assert dst.get("conf@first") == [{"v": 1}] and dst.get("conf") == [{"v": 2}]
    dst.drop("cfg")
    dst.drop("conf")
    assert data_footprint(dst) == data_footprint(store_factory(prefix="empty/"))
    # the current version only, or one named version
    plain = dst.from_archive(src.to_archive("cfg", tmp_path / "now", versions=False),
                             asname="now")
    assert "versions" not in (plain.attributes or {}) and dst.get("now") == [{"v": 2}]
    first = dst.from_archive(src.to_archive("cfg@first", tmp_path / "first"))
    assert first.name == "cfg" and dst.get("cfg") == [{"v": 1}]


def test_command_line(stores: tuple[OmegaStore, OmegaStore], omega_database_url: str,
                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = stores
    src.put(FRAME, "sales")
    file = tmp_path / "sales.tar.gz"
    assert main(["--mongo-url", omega_database_url, "export", "src/sales", str(file)]) == 0
    captured = capsys.readouterr()
    assert "src/sales ->" in captured.out and "src/sales: 3 documents" in captured.err
    assert main(["--mongo-url", omega_database_url, "import", str(file), "dst/copy"]) == 0
    _same(src.get("sales"), dst.get("copy"))
    assert main(["--mongo-url", omega_database_url, "import", str(tmp_path / "nope.tgz")]) == 4
    assert "no archive at" in capsys.readouterr().err
    assert main(["--mongo-url", omega_database_url, "export", "src/nope", str(file)]) == 3


def test_promotion_through_an_archive(stores: tuple[OmegaStore, OmegaStore]) -> None:
    src, dst = stores
    src.put(FRAME, "model_data", attributes={"stage": "dev"})
    meta = src.promote("model_data", dst, method="export")
    assert meta.attributes == {"stage": "dev"}
    _same(src.get("model_data"), dst.get("model_data"))


def test_omegamls_layout_and_several_objects(stores: tuple[OmegaStore, OmegaStore],
                                             tmp_path: Path, omega_database_url: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = stores
    src.put(FRAME, "sales")
    src.put(_model(), "model")
    folder = tmp_path / "export"
    src.to_archive("sales", folder)
    src.to_archive("model", folder)  # added to the archive, as omegaml's to_archive does
    manifest = json_util.loads((folder / MANIFEST).read_text())
    assert manifest["format"] == "omega"
    assert manifest["members"] == {
        "src/sales": f"src/{src.object_store_key('sales', 'omx')}",
        "src/model": f"src/{src.object_store_key('model', 'omx')}"}
    sales = folder / manifest["members"]["src/sales"]
    described = json_util.loads((sales / "metadata.json").read_text())
    assert (described["name"], described["kind"]) == ("sales", "pandas.dfrows")
    documents = json_util.loads((sales / "collection.json").read_text())
    assert [d["x"] for d in documents] == [1.5, 2.5, 3.5] and "_id" not in documents[0]
    model = json_util.loads((folder / manifest["members"]["src/model"] / "metadata.json")
                            .read_text())
    assert model["gridfile"] == "gridfile.bin"
    with pytest.raises(ArchiveError, match="holds src/sales, src/model; name the object"):
        dst.from_archive(folder)
    assert dst.from_archive(folder, "model").kind == "sklearn.joblib"
    # a tarball holds one directory, as omegaml's exporter writes it
    tarball = src.to_archive("sales", tmp_path / "sales.tgz")
    with tarfile.open(tarball) as tar:
        assert {n.split("/")[0] for n in tar.getnames()} == {"sales"}
    # the command line imports every object, each under its archived path
    assert main(["--mongo-url", omega_database_url, "--json", "import", str(folder)]) == 0
    imported = json_util.loads(capsys.readouterr().out)
    assert sorted(i["name"] for i in imported) == ["src/model", "src/sales"]


def test_documents_stream_across_pieces(stores: tuple[OmegaStore, OmegaStore], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents are parsed a piece at a time; pieces of 7 bytes split every document."""
    from omegacore_archive import streams

    src, dst = stores
    frame = pd.DataFrame({"s": ["a, b", "{x}", "]"], "d": [{"k": [1, 2]}, {}, {"k": []}]})
    src.put(frame.to_dict("records"), "docs")
    folder = src.to_archive("docs", tmp_path / "docs")
    monkeypatch.setattr(streams, "PIECE", 7)
    assert dst.from_archive(folder, asname="docs") is not None
    assert dst.get("docs") == src.get("docs")
    broken = next(folder.rglob("collection.json"))
    broken.write_text(broken.read_text()[:-8])
    with pytest.raises(ArchiveError, match="ends inside a document"):
        list(streams.read_json_documents(broken))


def test_archives_without_our_checksums_import(stores: tuple[OmegaStore, OmegaStore],
                                               tmp_path: Path) -> None:
    """omegaml writes no checksums: such an archive imports from its members as they are."""
    src, dst = stores
    src.put(FRAME, "sales", attributes={"owner": "ann"})
    folder = src.to_archive("sales", tmp_path / "a")
    manifest = json_util.loads((folder / MANIFEST).read_text())
    del manifest["omegacore"]
    (folder / MANIFEST).write_text(json_util.dumps(manifest))
    meta = dst.from_archive(folder, "sales")
    assert meta.attributes == {"owner": "ann"}
    _same(src.get("sales"), dst.get("sales"))
