"""omegacore-versions on the real server: history, every kind, drops, retention, faults."""

from __future__ import annotations

import fractions
import io
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore import OmegaStore, fsck
from omegacore.cli import main
from omegacore.errors import PluginHookError
from omegacore_testing import MixinConformance, data_footprint
from omegacore_testing.faults import fail_before_commit
from pymongo import monitoring
from sklearn.linear_model import LinearRegression

from omegacore_versions.mixin import VersionsMixin


class TestVersionsMixin(MixinConformance):
    mixin = VersionsMixin
    distribution = "omegacore-versions"


@pytest.fixture
def models(store_factory: Callable[..., OmegaStore]) -> OmegaStore:
    return store_factory(prefix="models/")


@pytest.fixture
def data(store_factory: Callable[..., OmegaStore]) -> OmegaStore:
    return store_factory(prefix="data/")


def _model(slope: float) -> LinearRegression:
    x = np.arange(6.0).reshape(-1, 1)
    return LinearRegression().fit(x, slope * x.ravel())


def _slope(model: Any) -> float:
    return round(float(model.coef_[0]), 6)


# -- omegaml's model versions ----------------------------------------------------------------
def test_every_put_in_a_models_store_is_a_version(models: OmegaStore) -> None:
    models.put(_model(1), "reg", tag="first")
    models.put(_model(2), "reg")
    models.put(_model(3), "reg", tag="prod")
    assert _slope(models.get("reg")) == 3
    assert _slope(models.get("reg@first")) == 1
    assert _slope(models.get("reg", tag="first")) == 1
    assert _slope(models.get("reg^")) == 2
    assert _slope(models.get("reg^^")) == 1
    assert _slope(models.get("reg", version=-2)) == 2
    assert _slope(models.get("reg", version=0)) == 1
    history = models.metadata("reg").attributes["versions"]
    refs = [c["ref"] for c in history["commits"]]
    assert len(refs) == 3 and len(set(refs)) == 3
    assert history["tags"] == {"first": refs[0], "latest": refs[2], "prod": refs[2]}
    assert history["tree"] == {refs[0]: None, refs[1]: refs[0], refs[2]: refs[1]}
    assert _slope(models.get(f"reg@{refs[1]}")) == 2
    assert models.revisions("reg") == ["reg@latest", "reg@first", "reg@prod", f"reg@{refs[1]}"]
    raw = models.metadata("reg@first", raw=True)
    assert raw.name == f"_versions/reg/{refs[0]}"
    assert models.metadata("reg@first").name == "reg"  # the name's metadata unless raw
    assert models.list() == ["reg"]  # versions are hidden


def test_commit_and_tag_given(models: OmegaStore) -> None:
    models.put(_model(1), "reg", commit="c0ffee")
    models.put(_model(2), "reg@prod")
    assert _slope(models.get("reg@c0ffee")) == 1
    assert _slope(models.get("reg@prod")) == 2
    with pytest.raises(ValueError, match="commit 'c0ffee' already"):
        models.put(_model(3), "reg", commit="c0ffee")
    with pytest.raises(KeyError, match="no version 'nope'"):
        models.get("reg@nope")
    with pytest.raises(KeyError, match="there are 2 versions"):
        models.get("reg", version=-3)


def test_reading_the_latest_costs_what_an_unversioned_get_costs(
        store_factory: Callable[..., OmegaStore]) -> None:
    class Count(monitoring.CommandListener):
        def __init__(self) -> None:
            self.names: list[str] = []

        def started(self, event: monitoring.CommandStartedEvent) -> None:
            self.names.append(event.command_name)

        def succeeded(self, event: Any) -> None:
            pass

        def failed(self, event: Any) -> None:
            pass

    count = Count()
    monitoring.register(count)  # applies to clients made from now on
    versioned = store_factory(prefix="models/")
    plain = store_factory(prefix="data/")
    versioned.put({"a": 1}, "cfg")
    versioned.put({"a": 2}, "cfg")
    plain.put({"a": 2}, "cfg")
    for store in (versioned, plain):
        store.get("cfg")  # warm up (indexes, connections)
    counts = []
    for store in (versioned, plain):
        count.names.clear()
        assert store.get("cfg") == [{"a": 2}]
        counts.append(list(count.names))
    assert counts[0] == counts[1], counts


# -- every kind ------------------------------------------------------------------------------
def _answering(value: int) -> Any:
    """A virtual object whose get answers ``value``."""
    from omegacore_virtualobj import virtualobj

    return virtualobj(lambda data=None, method=None, meta=None, store=None, **kw: value)


KINDS: dict[str, tuple[Callable[[int], Any], dict[str, Any], Callable[[Any, Any], None]]] = {
    "pandas.dfrows": (lambda v: pd.DataFrame({"x": np.arange(4) * v, "s": list("abcd")}), {},
                      lambda a, b: pd.testing.assert_frame_equal(a, b)),
    "pandas.serows": (lambda v: pd.Series([1.5, 2.5]) * v, {},
                      lambda a, b: pd.testing.assert_series_equal(a, b)),
    "pandas.dfgroup": (lambda v: pd.DataFrame({"g": ["a", "b", "a"], "x": [v, 2 * v, 3 * v]}),
                       {"groupby": "g"}, lambda a, b: pd.testing.assert_frame_equal(a, b)),
    "pandas.hdf": (lambda v: pd.DataFrame({"x": np.linspace(0, v, 5)}), {"as_hdf": True},
                   lambda a, b: pd.testing.assert_frame_equal(a, b)),
    "ndarray.bin": (lambda v: np.arange(6.0).reshape(2, 3) * v, {},
                    lambda a, b: np.testing.assert_array_equal(a, b)),
    "python.data": (lambda v: {"v": v, "tags": ["x"] * v}, {},
                    lambda a, b: a == [b] or pytest.fail(f"{a!r} != [{b!r}]")),
    "sklearn.joblib": (_model, {}, lambda a, b: _slope(a) == _slope(b) or pytest.fail("model")),
    "python.file": (lambda v: io.BytesIO(b"line\n" * v), {},
                    lambda a, b: a.read() == b.getvalue() or pytest.fail("file")),
    "python.model": (lambda v: fractions.Fraction(v, 7), {"kind": "python.model"},
                     lambda a, b: a == b or pytest.fail(f"{a!r} != {b!r}")),
    "pandas.rawdict": (lambda v: [{"a": v, "b": {"c": v}}], {"as_raw": True},
                       lambda a, b: a["a"].tolist() == [b[0]["a"]] or pytest.fail(f"{a!r}")),
    "pandas.parquet": (lambda v: pd.DataFrame({"x": np.arange(4) * v}), {"as_parquet": True},
                       lambda a, b: pd.testing.assert_frame_equal(a, b)),
    "virtualobj.dill": (lambda v: _answering(v), {},
                        lambda a, b: a == b(method="get") or pytest.fail(f"{a!r}")),
}
#: kinds whose distributions are examples, not part of omegacore
EXAMPLES = {"polars.parquet"}


def test_every_installed_kind_is_covered(data: OmegaStore) -> None:
    assert set(data.plugins.kinds()) - EXAMPLES <= set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_versions_of_every_kind(data: OmegaStore, kind: str) -> None:
    make, kwargs, same = KINDS[kind]
    for v in (1, 2, 3):
        meta = data.put(make(v), "obj", versions=True, tag=f"v{v}", **kwargs)
        assert meta.kind == kind
    same(data.get("obj"), make(3))
    same(data.get("obj@v1"), make(1))
    same(data.get("obj", version=-2), make(2))
    data.drop("obj@v2")
    assert [c["ref"] for c in data.metadata("obj").attributes["versions"]["commits"]] == [
        data.metadata("obj@v1", raw=True).name.rsplit("/", 1)[1],
        data.metadata("obj@v3", raw=True).name.rsplit("/", 1)[1]]
    same(data.get("obj^"), make(1))
    data.drop("obj@v3")  # the latest: the name reads the newest version left
    same(data.get("obj"), make(1))
    assert data.drop("obj") is True
    assert data_footprint(data) == ([], 0)
    assert data.list(hidden=True, include_temp=True) == []


def test_unversioned_objects_are_unchanged(data: OmegaStore) -> None:
    data.put({"a": 1}, "plain")
    data.put({"a": 2}, "plain")  # python.data appends, as without the plugin
    assert data.get("plain") == [{"a": 1}, {"a": 2}]
    assert "versions" not in data.metadata("plain").attributes
    with pytest.raises(ValueError, match="tag= needs a versioned object"):
        data.put({"a": 3}, "plain", tag="x")
    with pytest.raises(ValueError, match="'plain' has no versions"):
        data.get("plain", version=-2)
    data.put({"a": 1}, "mail@example.com")  # '@' in an unversioned name is a name
    assert data.get("mail@example.com") == [{"a": 1}]
    assert data.revisions("plain") is None


def test_versions_false_in_a_models_store(models: OmegaStore) -> None:
    models.put({"a": 1}, "tools/helper")  # omegaml never versions tools/
    models.put({"a": 1}, "cfg", versions=False)
    assert models.revisions("cfg") is None and models.revisions("tools/helper") is None


def test_append_to_a_versioned_frame_is_refused(data: OmegaStore) -> None:
    frame = pd.DataFrame({"x": [1, 2]})
    data.put(frame, "f", versions=True)
    with pytest.raises(ValueError, match="append=True cannot add"):
        data.put(frame, "f", append=True)
    pd.testing.assert_frame_equal(data.get("f"), frame)


def test_keep_removes_the_oldest_versions_data(data: OmegaStore) -> None:
    for v in range(5):
        data.put(np.full(3, float(v)), "arr", versions=True, keep=2)
    history = data.metadata("arr").attributes["versions"]
    assert len(history["commits"]) == 2 and history["keep"] == 2
    assert data.get("arr").tolist() == [4.0] * 3
    assert data.get("arr^").tolist() == [3.0] * 3
    assert data_footprint(data)[1] == 2  # two GridFS files: the versions kept


def test_failed_put_leaves_the_history_and_no_orphans(data: OmegaStore) -> None:
    data.put(np.arange(3.0), "arr", versions=True)
    before = data.metadata("arr").attributes["versions"]
    for names in (("arr",), ()):  # the name's commit fails; the version's put fails
        with fail_before_commit(data, *names), pytest.raises(PluginHookError):
            data.put(np.arange(4.0), "arr")
        assert data.metadata("arr").attributes["versions"] == before
        assert data.get("arr").tolist() == [0.0, 1.0, 2.0]
        assert data_footprint(data)[1] == 1
    assert fsck.check(data, grace=0).problems == []


def test_concurrent_puts_of_new_versions(store_factory: Callable[..., OmegaStore],
                                         omega_database_url: str) -> None:
    code = textwrap.dedent(f"""
        from omegacore import OmegaStore
        store = OmegaStore(mongo_url={omega_database_url!r}, prefix="models/")
        for i in range(8):
            store.put({{"writer": WRITER, "i": i}}, "shared")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code.replace("WRITER", str(w))])
             for w in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    store = store_factory(prefix="models/")
    commits = store.metadata("shared").attributes["versions"]["commits"]
    assert len(commits) == 16 and len({c["ref"] for c in commits}) == 16
    values = sorted((store.get(f"shared@{c['ref']}")[0]["writer"],
                     store.get(f"shared@{c['ref']}")[0]["i"]) for c in commits)
    assert values == sorted((w, i) for w in range(2) for i in range(8))
    # the name and its 16 versions, no strays
    assert len(store.list(hidden=True, include_temp=True)) == 17


def test_new_versions_of_a_model_omegaml_versioned(models: OmegaStore) -> None:
    # the layout omegaml 0.18 writes: a name with its own copy, and one object per version
    models.put(_model(1), "_versions/old/aaa", versions=False)
    models.put(_model(1), "old", versions=False)
    meta = models.metadata("old")
    meta.attributes["versions"] = {"tags": {"latest": "aaa"}, "tree": {"aaa": None},
                                   "commits": [{"name": "_versions/old/aaa", "ref": "aaa"}]}
    meta.save()
    models.put(_model(2), "old", tag="new")
    history = models.metadata("old").attributes["versions"]
    assert [c["ref"] for c in history["commits"]][0] == "aaa"
    assert history["tree"][history["tags"]["new"]] == "aaa"
    assert _slope(models.get("old")) == 2 and _slope(models.get("old@aaa")) == 1
    assert data_footprint(models)[1] == 2  # the name's own old copy is gone


def test_versions_listing_and_command_line(models: OmegaStore, omega_database_url: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    models.put(_model(1), "reg", tag="first")
    models.put(_model(2), "reg")
    rows = models.versions("reg")
    assert [r["version"] for r in rows] == [0, 1]
    assert [r["tags"] for r in rows] == [["first"], ["latest"]]
    assert all(r["kind"] == "sklearn.joblib" and r["size"] > 0 for r in rows)
    capsys.readouterr()
    assert main(["--mongo-url", omega_database_url, "versions", "models/reg"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["version", "commit", "size", "created", "tags"]
    assert out[1].split()[0] == "0" and out[1].endswith("first")
    assert out[2].endswith("latest")
    assert main(["--mongo-url", omega_database_url, "versions", "models/nope"]) == 3
