"""The core store against a real server: metadata, naming, keys, listing, put/get/drop."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime

import pytest
from omegacore_testing import data_footprint

from omegacore import DoesNotExist, KindNotInstalled, OmegaStore


def test_put_get_round_trip_and_metadata(core_store: OmegaStore) -> None:
    meta = core_store.put(b"payload", "blob", attributes={"owner": "ann"})
    assert meta.kind == "test.bytes"
    assert core_store.get("blob") == b"payload"
    stored = core_store.metadata("blob")
    assert stored is not None
    assert (stored.name, stored.bucket, stored.prefix) == ("blob", "omegaml", "")
    assert stored.attributes == {"owner": "ann"}
    assert stored.kind_meta == {"size": 7}
    assert isinstance(stored.created, datetime) and stored.created <= stored.modified
    assert stored.id == meta.id


def test_get_missing_returns_none(core_store: OmegaStore) -> None:
    assert core_store.get("nothing-here") is None
    assert core_store.metadata("nothing-here") is None


def test_replace_keeps_created_updates_modified_and_leaves_one_file(core_store: OmegaStore) -> None:
    first = core_store.put(b"one", "blob")
    second = core_store.put(b"two", "blob")
    assert core_store.get("blob") == b"two"
    assert second.id == first.id
    stored = core_store.metadata("blob")
    assert stored is not None
    assert stored.created == first.created
    assert stored.modified >= first.modified
    assert data_footprint(core_store) == ([], 1)
    assert core_store.mongodb["metadata"].count_documents({"name": "blob"}) == 1


def test_attributes_none_keeps_empty_resets_dict_updates(core_store: OmegaStore) -> None:
    core_store.put(b"x", "a", attributes={"k": 1, "j": 2})
    core_store.put(b"x", "a")
    assert core_store.metadata("a").attributes == {"k": 1, "j": 2}
    core_store.put(b"x", "a", attributes={"j": 3, "new": True})
    assert core_store.metadata("a").attributes == {"k": 1, "j": 3, "new": True}
    core_store.put(b"x", "a", attributes={})
    assert core_store.metadata("a").attributes == {}


def test_make_metadata_is_unsaved_and_follows_attribute_rules(core_store: OmegaStore) -> None:
    new = core_store.make_metadata("fresh", "test.bytes", attributes={"a": 1})
    assert new.id is None and new.attributes == {"a": 1}
    assert core_store.metadata("fresh") is None
    core_store.put(b"x", "fresh", attributes={"a": 1})
    assert core_store.make_metadata("fresh", "test.bytes").attributes == {"a": 1}
    assert core_store.make_metadata("fresh", "test.bytes", attributes={}).attributes == {}
    assert core_store.make_metadata("fresh", "test.bytes", attributes={"b": 2}).attributes == {
        "a": 1, "b": 2}
    assert core_store.metadata("fresh").attributes == {"a": 1}


def test_kind_change_removes_old_data(core_store: OmegaStore) -> None:
    core_store.put(b"blob", "thing")
    core_store.put(["a", "b"], "thing")
    assert core_store.get("thing") == ["a", "b"]
    meta = core_store.metadata("thing")
    assert meta.kind == "test.lines" and meta.gridfile_id is None
    names, files = data_footprint(core_store)
    assert (len(names), files) == (1, 0)


def test_append_and_replace(core_store: OmegaStore) -> None:
    core_store.put(["a"], "lines")
    core_store.put(["b", "c"], "lines")
    assert core_store.get("lines") == ["a", "b", "c"]
    core_store.put(["z"], "lines", replace=True)
    assert core_store.get("lines") == ["z"]
    assert len(data_footprint(core_store)[0]) == 1


def test_failed_put_keeps_previous_object_and_leaves_no_orphans(core_store: OmegaStore) -> None:
    core_store.put(b"original", "safe")
    before = data_footprint(core_store)
    meta_before = core_store.metadata("safe").to_mongo()
    with pytest.raises(RuntimeError, match="failed after writing"):
        core_store.put(b"replacement", "safe", fail_after_write=True)
    assert core_store.get("safe") == b"original"
    assert data_footprint(core_store) == before
    assert core_store.metadata("safe").to_mongo() == meta_before


def test_failed_append_removes_appended_rows(core_store: OmegaStore) -> None:
    core_store.put(["a", "b"], "lines")
    with pytest.raises(RuntimeError, match="failed after 1 lines"):
        core_store.put(["c", "d"], "lines", fail_after=1)
    assert core_store.get("lines") == ["a", "b"]


def test_failed_first_put_leaves_nothing(core_store: OmegaStore) -> None:
    with pytest.raises(RuntimeError):
        core_store.put(b"x", "never", fail_after_write=True)
    assert core_store.metadata("never") is None
    assert data_footprint(core_store) == ([], 0)


@pytest.mark.parametrize("bad", ["", None, 42, b"bytes", "nul\x00char"])
def test_invalid_names_raise_before_writing(core_store: OmegaStore, bad: object) -> None:
    with pytest.raises(ValueError, match="name"):
        core_store.put(b"x", bad)  # type: ignore[arg-type]
    assert data_footprint(core_store) == ([], 0)
    assert core_store.mongodb["metadata"].count_documents({}) == 0


def test_unsupported_object_names_installed_kinds(core_store: OmegaStore) -> None:
    class Strange:
        pass

    with pytest.raises(TypeError) as info:
        core_store.put(Strange(), "x")
    message = str(info.value)
    assert "test.bytes (test-kinds)" in message and "test.lines (test-kinds)" in message
    assert "Strange" in message


def test_explicit_kind_decides(core_store: OmegaStore) -> None:
    with pytest.raises(KindNotInstalled, match="no.such.kind"):
        core_store.put(b"x", "x", kind="no.such.kind")
    meta = core_store.put(b"x", "x", kind="test.bytes")
    assert meta.kind == "test.bytes"


def test_get_of_kind_without_plugin_names_distribution(store_factory) -> None:
    from omegacore import PluginRegistry
    from support_kinds import SupportKindsPlugin

    registry = PluginRegistry(load_entry_points=False)  # only the test kinds installed
    registry.register(SupportKindsPlugin(), name="test-kinds")
    store = store_factory(plugins=registry)
    store.put(b"x", "orphaned")
    store.mongodb["metadata"].update_one({"name": "orphaned"}, {"$set": {"kind": "pandas.dfgroup"}})
    with pytest.raises(KindNotInstalled, match="install omegacore-pandas-dfgroup"):
        store.get("orphaned")
    store.mongodb["metadata"].update_one({"name": "orphaned"}, {"$set": {"kind": "acme.widget"}})
    with pytest.raises(KindNotInstalled, match="provides kind 'acme.widget'"):
        store.get("orphaned")
    assert store.drop("orphaned") is True  # dropping needs no plugin
    assert data_footprint(store) == ([], 0)


def test_object_store_key_scheme(core_store_factory) -> None:
    store = core_store_factory(prefix="data/")
    plain = store.object_store_key("sales/2024", "datastore", hashed=False)
    assert plain == "omegaml.data_.sales_2024.datastore"
    hashed = store.object_store_key("sales/2024", "datastore")
    assert hashed == hashlib.sha1(plain.encode()).hexdigest()
    assert store.object_store_key("x.datastore", "datastore", hashed=False) == (
        "omegaml.data_.x.datastore")
    nohash = core_store_factory(defaults={"OMEGA_STORE_HASHEDNAMES": False})
    assert nohash.object_store_key("a", "ext") == "omegaml.a.ext"


def test_collection_by_metadata_or_convention(core_store: OmegaStore) -> None:
    assert core_store.collection("new").name == core_store.object_store_key("new", "datastore")
    meta = core_store.put(["a"], "rows")
    assert core_store.collection("rows").name == meta.collection


def test_long_names_work(core_store: OmegaStore) -> None:
    name = "n" * 2000
    core_store.put(["a"], name)
    assert core_store.get(name) == ["a"]


def test_list_patterns_hidden_temp_kind(core_store: OmegaStore) -> None:
    for name in ["sales/a", "sales/b", "other", "_tmp", "sales/_t", ".hidden", "sales/.h"]:
        core_store.put(b"x", name)
    core_store.put(["l"], "lines")
    assert core_store.list() == ["lines", "other", "sales/a", "sales/b"]
    assert core_store.list("sales/*") == ["sales/a", "sales/b"]
    assert core_store.list(regexp="^o") == ["other"]
    assert core_store.list(kind="test.lines") == ["lines"]
    assert core_store.list(kind=["test.lines", "test.bytes"]) == core_store.list()
    assert core_store.list(include_temp=True) == [
        "_tmp", "lines", "other", "sales/_t", "sales/a", "sales/b"]
    assert core_store.list(hidden=True) == [
        ".hidden", "lines", "other", "sales/.h", "sales/a", "sales/b"]
    assert core_store.list(".*") == [".hidden"]
    raw = core_store.list("other", raw=True)
    assert [m.name for m in raw] == ["other"] and raw[0].kind == "test.bytes"
    assert core_store.list(filter={"kind": "test.lines"}) == ["lines"]
    with pytest.raises(ValueError, match=r"\$where"):
        core_store.list(filter={"$where": "sleep(1000)"})


def test_prefix_and_bucket_scope_objects(core_store_factory) -> None:
    data = core_store_factory(prefix="data/")
    models = core_store_factory(prefix="models/")
    other = core_store_factory(bucket="team")
    data.put(b"d", "x")
    models.put(b"m", "x")
    other.put(b"o", "x")
    assert (data.get("x"), models.get("x"), other.get("x")) == (b"d", b"m", b"o")
    assert data.list() == ["x"] and models.list() == ["x"]
    assert data.list(prefix="models/") == ["x"]
    assert other.fs_collection == "omegaml_team"
    assert other.mongodb["omegaml_team.files"].count_documents({}) == 1


def test_exists_takes_names_literally(core_store: OmegaStore) -> None:
    core_store.put(b"x", "here")
    core_store.put(b"x", ".secret")
    core_store.put(b"x", "a*")
    assert core_store.exists("here") is True
    assert core_store.exists("nothere") is False
    assert core_store.exists(".secret") is True  # an exact name is found, hidden or not
    assert core_store.exists(".secret", hidden=True) is True
    assert core_store.exists("a*") is True
    assert core_store.exists("h*") is False  # no pattern matching
    with pytest.raises(TypeError, match="hidden must be True or False"):
        core_store.exists("here", hidden="yes")


def test_drop_variants(core_store: OmegaStore) -> None:
    with pytest.raises(DoesNotExist, match="missing"):
        core_store.drop("missing")
    assert core_store.drop("missing", force=True) is True
    assert core_store.drop("missing", force=True, report=True) == {"missing": False}
    for name in ["tmp/a", "tmp/b", "tmp/.hidden", "tmp/_temp", "keep"]:
        core_store.put(b"x", name)
    assert core_store.drop(pattern="tmp/*", report=True) == {"tmp/a": True, "tmp/b": True}
    assert core_store.list(hidden=True, include_temp=True) == ["keep", "tmp/.hidden", "tmp/_temp"]
    with pytest.raises(DoesNotExist, match="no object matches"):
        core_store.drop(pattern="tmp/[ab]")
    assert core_store.drop(regexp="^tmp/", hidden=True, include_temp=True, report=True) == {
        "tmp/.hidden": True, "tmp/_temp": True}
    assert core_store.drop("keep") is True
    assert data_footprint(core_store) == ([], 0)


def test_drop_takes_names_literally(core_store: OmegaStore) -> None:
    for name in ["a*", "ab", "x[1]", "x1"]:
        core_store.put(name.encode(), name)
    assert core_store.drop("a*") is True
    assert core_store.list() == ["ab", "x1", "x[1]"]
    assert core_store.drop("x[1]") is True
    assert core_store.list() == ["ab", "x1"]
    assert core_store.get("x1") == b"x1"


def test_drop_refuses_unknown_and_non_boolean_arguments(core_store: OmegaStore) -> None:
    core_store.put(b"x", "kept")
    with pytest.raises(TypeError, match="forse"):
        core_store.drop("kept", forse=True)
    with pytest.raises(TypeError, match="force must be True or False"):
        core_store.drop("kept", force="yes")
    with pytest.raises(TypeError, match="a name or pattern"):
        core_store.drop("kept", pattern="k*")
    with pytest.raises(ValueError, match="version=3"):
        core_store.drop("kept", version=3)
    assert core_store.get("kept") == b"x"


def test_list_stays_in_its_bucket_and_prefix(core_store_factory) -> None:
    hr = core_store_factory(prefix="hr/")
    other = core_store_factory(bucket="other", prefix="hr/")
    hr.put(b"x", "mine")
    other.put(b"y", "theirs")
    assert hr.list() == ["mine"]
    with pytest.raises(ValueError, match="may not set bucket, prefix"):
        hr.list(filter={"bucket": "other", "prefix": "hr/"})
    assert hr.list(bucket="other") == ["theirs"]


def test_one_metadata_document_per_name_is_enforced(core_store: OmegaStore) -> None:
    core_store.put(b"x", "unique")
    from pymongo.errors import DuplicateKeyError

    with pytest.raises(DuplicateKeyError):
        core_store.mongodb["metadata"].insert_one(
            {"name": "unique", "bucket": "omegaml", "prefix": "", "kind": "test.bytes"})


def test_tmppath_is_per_store_and_removed_on_close(core_store_factory) -> None:
    a, b = core_store_factory(), core_store_factory()
    assert a.tmppath != b.tmppath and os.path.isdir(a.tmppath)
    path = a.tmppath
    with open(os.path.join(path, "f"), "w") as fh:
        fh.write("x")
    a.close()
    assert not os.path.exists(path)
    with b:
        path_b = b.tmppath
    assert not os.path.exists(path_b)


def test_help_uses_docs_attribute_or_backend(core_store: OmegaStore) -> None:
    core_store.put(b"x", "documented", attributes={"docs": "what this blob means"})
    core_store.put(b"x", "plain")
    assert core_store.help("documented") == "what this blob means"
    assert "Bytes in one GridFS file" in core_store.help("plain")
    assert "Bytes in one GridFS file" in core_store.help("documented", raw=True)
    assert "Bytes in one GridFS file" in core_store.help(b"an object")


def test_hooks_before_and_after(core_store: OmegaStore) -> None:
    from omegacore import PluginHookError, hookimpl

    seen: list[tuple[str, str]] = []

    class Audit:
        @hookimpl
        def omega_before_put(self, store, obj, name, kind, kwargs):
            if name == "forbidden":
                raise PermissionError("puts to 'forbidden' are refused by policy")
            seen.append(("before", name))

        @hookimpl
        def omega_after_put(self, store, meta, name, kind):
            seen.append(("after", meta.kind))

        @hookimpl
        def omega_after_drop(self, store, name, meta):
            seen.append(("drop", meta.name))

    core_store.plugins.register(Audit(), name="audit")
    core_store.put(b"x", "ok")
    core_store.drop("ok")
    with pytest.raises(PluginHookError, match="omega_before_put of plugin 'audit'") as info:
        core_store.put(b"x", "forbidden")
    assert isinstance(info.value.__cause__, PermissionError)
    assert seen == [("before", "ok"), ("after", "test.bytes"), ("drop", "ok")]
    assert core_store.metadata("forbidden") is None
    core_store.plugins.unregister("audit")
    core_store.put(b"x", "forbidden")
    assert core_store.get("forbidden") == b"x"


def test_put_file_accepts_buffers_files_and_chunks(core_store: OmegaStore) -> None:
    import io

    data = bytes(range(256)) * 40_000  # about 10 MB, more than one slice
    sources = {
        "memoryview": memoryview(bytearray(data)),
        "file": io.BytesIO(data),
        "chunks": (memoryview(data)[i : i + 3_000_000] for i in range(0, len(data), 3_000_000)),
    }
    for label, source in sources.items():
        with core_store.stage(label, kind="test.bytes") as staged:
            staged.put_file(source)
        assert core_store.get(label) == data, label


def test_append_never_goes_into_another_kinds_data(core_store: OmegaStore) -> None:
    core_store.put(b"blob", "mixed")
    with core_store.stage("mixed", kind="test.lines") as staged:
        assert staged.previous_kind == "test.bytes"
        assert staged.previous_collection_for_append() is None
        staged.new_collection().insert_one({"line": "x", "n": 0})
    assert core_store.get("mixed") == ["x"]


def test_default_datasets_and_models_stores(omega_database_url: str, core_store_factory,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import omegacore
    from support_kinds import SupportKindsPlugin

    monkeypatch.setenv("OMEGA_MONGO_URL", omega_database_url)
    monkeypatch.delitem(vars(omegacore), "datasets", raising=False)
    monkeypatch.delitem(vars(omegacore), "models", raising=False)
    datasets = omegacore.datasets
    assert omegacore.datasets is datasets  # made once, then kept
    assert (datasets.prefix, omegacore.models.prefix) == ("data/", "models/")
    datasets.plugins.register(SupportKindsPlugin(), name="test-kinds")
    datasets.put(b"some bytes", "raw")
    assert core_store_factory(prefix="data/").get("raw") == b"some bytes"
    assert core_store_factory().get("raw") is None  # in data/, not at the root
    assert "datasets" in dir(omegacore)
    with pytest.raises(AttributeError, match="no attribute 'dataset'"):
        omegacore.dataset  # noqa: B018 - a typo is an AttributeError, not a store


def test_import_makes_no_store() -> None:
    import subprocess
    import sys

    code = ("import omegacore, sys; "
            "print('datasets' in vars(omegacore), 'pandas' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]


def test_a_failing_after_put_hook_warns_and_the_put_stands(core_store: OmegaStore) -> None:
    from omegacore import hookimpl

    class Broken:
        @hookimpl
        def omega_after_put(self, store, meta, name, kind):
            raise RuntimeError("audit log unavailable")

    core_store.plugins.register(Broken(), name="broken-audit")
    with pytest.warns(RuntimeWarning, match="'kept' is stored, but omega_after_put of plugin "
                                            "'broken-audit'.*audit log unavailable"):
        meta = core_store.put(b"x", "kept")
    assert meta.kind == "test.bytes"
    assert core_store.get("kept") == b"x"


def test_a_store_pickles_as_its_settings_and_reconnects(store_factory) -> None:
    """Worker processes get stores by pickle: settings travel, connections do not."""
    import pickle

    store = store_factory(prefix="models/", bucket="team")
    store.put({"a": 1}, "probe")
    copy = pickle.loads(pickle.dumps(store))
    assert (copy.mongo_url, copy.bucket, copy.prefix) == (store.mongo_url, "team", "models/")
    assert copy.get("probe") == [{"a": 1}]
    assert b"MongoClient" not in pickle.dumps(store)
