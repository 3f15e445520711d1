"""The omegacore command line, run in-process against a real server."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Installer
from omegacore import cli_support
from omegacore.cli import build_parser, main
from omegacore.plugins import PluginRegistry


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plugins_lists_distributions_versions_kinds_and_errors(install_dist: Installer, capsys,
                                                               monkeypatch) -> None:
    monkeypatch.setenv("OMEGA_PLUGINS_STRICT", "0")
    install_dist("acme-cli", "acme_cli", """
        from omegacore import KindSpec, MixinSpec, hookimpl

        class Mixin:
            pass

        @hookimpl
        def omega_kinds():
            return [KindSpec("acme.cli", "acme_cli:Backend", priority=3)]

        @hookimpl
        def omega_mixins():
            return [MixinSpec(Mixin, order=7)]

        @hookimpl
        def omega_after_put(store, meta, name, kind):
            pass
    """, version="3.1")
    install_dist("acme-bad", "acme_bad", "raise RuntimeError('broken on purpose')\n")
    with pytest.warns(RuntimeWarning):
        code, out, _ = run(capsys, "plugins")
    assert code == 1  # load errors make the listing fail, so scripts notice
    assert "acme-cli 3.1" in out
    assert "kind   acme.cli" in out and "priority 3" in out and "acme_cli:Backend" in out
    assert "mixin  acme_cli:Mixin (order 7)" in out
    assert "hooks  omega_after_put" in out
    assert "LOAD ERROR acme-bad (acme-bad): RuntimeError: broken on purpose" in out
    for argv in (("plugins", "--json"), ("--json", "plugins")):
        with pytest.warns(RuntimeWarning):
            code, out, _ = run(capsys, *argv)
        data = json.loads(out)
        acme = [p for p in data["plugins"] if p["distribution"] == "acme-cli"]
        assert acme == [{"name": "acme-cli", "distribution": "acme-cli", "version": "3.1",
                         "kinds": ["acme.cli"], "mixins": ["acme_cli:Mixin"],
                         "hooks": ["omega_after_put", "omega_kinds", "omega_mixins"],
                         "notes": []}]
        assert data["load_errors"][0]["distribution"] == "acme-bad"


def test_list_info_drop(core_store, omega_database_url, capsys) -> None:
    core_store.put(b"x", "reports/q1", attributes={"owner": "ann"})
    core_store.put(b"y", "reports/q2")
    core_store.put(b"z", "_scratch")
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "list")
    assert (code, out.split()) == (0, ["reports/q1", "reports/q2"])
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "list", "--all")
    assert out.split() == ["_scratch", "reports/q1", "reports/q2"]
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "list", "*q2")
    assert out.split() == ["reports/q2"]
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "info", "reports/q1")
    info = json.loads(out)
    assert (code, info["name"], info["kind"], info["attributes"], info["size"]) == (
        0, "reports/q1", "test.bytes", {"owner": "ann"}, 1)
    code, _, err = run(capsys, "--mongo-url", omega_database_url, "info", "nope")
    assert (code, err) == (3, "omegacore: 'nope' does not exist: 'omegacore list' shows "
                              "what is stored\n")
    code, out, err = run(capsys, "--mongo-url", omega_database_url, "drop", "reports/*")
    assert (code, err) == (3, "omegacore: 'reports/*' does not exist (--pattern makes NAME a "
                              "pattern): pass --force to succeed anyway\n")
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "drop", "--pattern",
                       "reports/*")
    assert (code, out.splitlines()) == (0, ["dropped reports/q1", "dropped reports/q2"])
    assert core_store.list(include_temp=True) == ["_scratch"]


def test_drop_of_a_missing_name_names_the_flag(omega_database_url, capsys) -> None:
    code, out, err = run(capsys, "--mongo-url", omega_database_url, "drop", "nope")
    assert (code, out) == (3, "")
    assert err == "omegacore: 'nope' does not exist: pass --force to succeed anyway\n"
    code, out, err = run(capsys, "drop", "nope", "--force", "--mongo-url", omega_database_url)
    assert (code, out, err) == (0, "not found nope\n", "")
    code, out, _ = run(capsys, "drop", "gone/*", "--pattern", "--force", "--json",
                       "--mongo-url", omega_database_url)
    assert (code, json.loads(out)) == (0, {"dropped": [], "missing": ["gone/*"]})


def test_paths_join_prefix_and_name_and_global_options_go_anywhere(
        core_store_factory, omega_database_url, capsys) -> None:
    core_store_factory(prefix="data/").put(b"12345", "weather")
    core_store_factory(prefix="models/").put(b"m", "tree")
    core_store_factory().put(b"root", "notes")
    url = omega_database_url
    code, out, _ = run(capsys, "--mongo-url", url, "list", "data/*")
    assert (code, out) == (0, "data/weather\n")
    code, out, _ = run(capsys, "list", "--mongo-url", url)
    assert out.split() == ["data/weather", "models/tree", "notes"]
    code, out, _ = run(capsys, "info", "weather", "--prefix", "data/", "--mongo-url", url)
    assert (code, json.loads(out)["prefix"], json.loads(out)["size"]) == (0, "data/", 5)
    code, out, _ = run(capsys, "--prefix", "data/", "info", "weather", "--mongo-url", url)
    assert json.loads(out)["name"] == "weather"
    code, out, _ = run(capsys, "--mongo-url", url, "info", "data/weather")
    assert (code, json.loads(out)["name"]) == (0, "weather")
    code, out, _ = run(capsys, "--mongo-url", url, "--prefix", "data/", "list")
    assert out.split() == ["weather"]
    # the same path meaning two objects is refused, --prefix chooses
    core_store_factory().put(b"other", "data/weather")
    code, out, err = run(capsys, "--mongo-url", url, "info", "data/weather")
    assert (code, out) == (2, "")
    assert "names two objects" in err and "pass --prefix" in err
    code, out, _ = run(capsys, "--mongo-url", url, "--prefix", "", "info", "data/weather")
    assert json.loads(out)["size"] == 5 and json.loads(out)["prefix"] == ""
    code, out, _ = run(capsys, "--mongo-url", url, "drop", "models/tree")
    assert (code, out) == (0, "dropped models/tree\n")
    assert core_store_factory(prefix="models/").list() == []


def test_long_and_json_listing(core_store_factory, omega_database_url, capsys) -> None:
    store = core_store_factory(prefix="data/")
    store.put(b"x" * 3000, "blob")
    store.put(["a", "b"], "lines")
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "ls", "-l")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    kind, size, day, time_, path = lines[0].split()
    modified = store.metadata("blob").modified
    assert (kind, size, day, time_, path) == (
        "test.bytes", "2.9K", modified.strftime("%Y-%m-%d"), modified.strftime("%H:%M"),
        "data/blob")
    assert lines[1].split()[0] == "test.lines" and lines[1].endswith("data/lines")
    code, out, _ = run(capsys, "--mongo-url", omega_database_url, "list", "--json")
    rows = json.loads(out)
    assert [(r["name"], r["prefix"], r["kind"], r["size"]) for r in rows][0] == (
        "data/blob", "data/", "test.bytes", 3000)
    assert rows[1]["size"] > 0 and rows[1]["modified"].startswith(modified.strftime("%Y-%m-%d"))


def test_empty_name_is_a_usage_error(omega_database_url, capsys) -> None:
    for argv in (("info", ""), ("drop", " "), ("get", ""), ("put", "f.json", "")):
        code, out, err = run(capsys, "--mongo-url", omega_database_url, *argv)
        assert (code, out) == (2, ""), argv
        assert err == "omegacore: the object name is empty: give a name such as data/sales\n"


def test_unreachable_server_is_one_line_naming_it(capsys) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"mongodb://user:secret@127.0.0.1:{port}/db?serverSelectionTimeoutMS=300"
    code, out, err = run(capsys, "--mongo-url", url, "list")
    assert (code, out) == (6, "")
    assert err.startswith(f"omegacore: cannot reach the MongoDB server at 127.0.0.1:{port} "
                          "(from --mongo-url)")
    assert "secret" not in err and len(err.splitlines()) == 1


def test_server_timeout_is_added_to_urls_without_one() -> None:
    with_timeout = cli_support._with_timeout
    assert with_timeout("mongodb://h:1/db") == "mongodb://h:1/db?serverSelectionTimeoutMS=5000"
    assert with_timeout("mongodb://h:1") == "mongodb://h:1/?serverSelectionTimeoutMS=5000"
    assert with_timeout("mongodb://h/db?retryWrites=false") == (
        "mongodb://h/db?retryWrites=false&serverSelectionTimeoutMS=5000")
    assert with_timeout("mongodb://h/?serverselectiontimeoutms=9") == (
        "mongodb://h/?serverselectiontimeoutms=9")


def test_broken_pipe_exits_quietly(core_store, omega_database_url, capsys,
                                   monkeypatch) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    core_store.put(b"x", "one")
    monkeypatch.setattr("sys.stdout", ClosedPipe())
    code = main(["--mongo-url", omega_database_url, "list"])
    monkeypatch.undo()
    assert (code, capsys.readouterr().err) == (141, "")


def test_help_is_plain_text(capsys) -> None:
    parser = build_parser(PluginRegistry())
    texts = [parser.format_help()]
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        texts += [p.format_help() for p in action.choices.values()]
    assert len(texts) > 8
    for text in texts:
        assert "``" not in text and ":func:" not in text
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "exit codes: 0 success" in out and "6 the database server" in out
    code, _, err = run(capsys, "lsit")
    assert code == 2 and "invalid choice: 'lsit'" in err and "see omegacore --help" in err


_NOTES_PLUGIN = """
    from pathlib import Path
    from omegacore import BaseBackend, FileFormat, FileOption, KindSpec, hookimpl

    class Note(str):
        pass

    class NoteBackend(BaseBackend):
        KIND = "acme.note"

        @classmethod
        def supports(cls, obj, name, **kwargs):
            return isinstance(obj, Note)

        def put(self, obj, name, attributes=None, replace=False, **kwargs):
            with self.stage(name, attributes) as staged:
                staged.put_file(obj.encode())
            return staged.meta

        def get(self, name, version=-1, meta=None, **kwargs):
            return Note(self.open_file(self.metadata(name, meta)).read().decode())

    def read_note(path, upper=None):
        text = Path(path).read_text()
        if not text.startswith("NOTE:"):
            raise ValueError("a note starts with NOTE:")
        return Note(text.upper() if upper else text)

    def write_note(obj, path):
        Path(path).write_text(obj)

    @hookimpl
    def omega_kinds():
        return [KindSpec("acme.note", NoteBackend, types=("acme_notes.Note",))]

    @hookimpl
    def omega_file_formats():
        return [FileFormat((".note",), "acme.note", reader="acme_notes:read_note",
                           writer="acme_notes:write_note", types=("acme_notes.Note",),
                           text=True, options=(FileOption("upper", "upper-case", flag=True),))]
"""


def test_a_kind_plugin_adds_its_file_format(install_dist: Installer, omega_database_url,
                                            tmp_path: Path, capsys) -> None:
    install_dist("acme-notes", "acme_notes", _NOTES_PLUGIN)
    url = ["--mongo-url", omega_database_url]
    note = tmp_path / "a.note"
    note.write_text("NOTE: buy milk")
    code, out, err = run(capsys, *url, "put", str(note), "todo/today")
    assert (code, out, err) == (0, "stored todo/today (acme.note): 14 items\n", "")
    code, out, _ = run(capsys, *url, "get", "todo/today")
    assert (code, out) == (0, "NOTE: buy milk")
    code, out, _ = run(capsys, *url, "put", str(note), "shout", "--upper", "--json")
    assert json.loads(out) == {"name": "shout", "prefix": "", "kind": "acme.note",
                               "file": str(note), "appended": False}
    written = tmp_path / "out" / "b.note"
    code, _, err = run(capsys, *url, "get", "shout", "-o", str(written))
    assert (code, err) == (5, f"omegacore: {written.parent}: no such directory; create it "
                              "first\n")
    written.parent.mkdir()
    code, _, err = run(capsys, *url, "get", "shout", "-o", str(written))
    assert code == 0 and written.read_text() == "NOTE: BUY MILK"
    assert not [p for p in written.parent.iterdir() if p != written]  # no temporary left
    bad = tmp_path / "bad.note"
    bad.write_text("groceries")
    code, out, err = run(capsys, *url, "put", str(bad), "todo/today")
    assert (code, out, err) == (4, "", "omegacore: bad.note: a note starts with NOTE:\n")
    code, out, _ = run(capsys, *url, "get", "todo/today")
    assert out == "NOTE: buy milk"  # the failed put left the stored note unchanged
    (tmp_path / "a.txt").write_text("NOTE: x")
    code, _, err = run(capsys, *url, "put", str(tmp_path / "a.txt"), "x")
    assert code == 2 and "a.txt: omegacore reads files ending in" in err and ".note" in err
    code, _, err = run(capsys, *url, "get", "todo/today", "-o", str(tmp_path / "x.xyz"))
    assert code == 2 and "x.xyz: omegacore writes files ending in" in err
    code, _, err = run(capsys, *url, "put", str(tmp_path / "missing.note"), "x")
    assert (code, err) == (5, f"omegacore: {tmp_path / 'missing.note'}: no such file\n")


def test_output_piped_into_head_ends_quietly(install_dist: Installer, omega_database_url,
                                             tmp_path: Path, capsys) -> None:
    install_dist("acme-notes", "acme_notes", _NOTES_PLUGIN)
    note = tmp_path / "long.note"
    note.write_text("NOTE:\n" + "a line of the note\n" * 60_000)  # ~1 MB, more than a pipe
    assert main(["--mongo-url", omega_database_url, "put", str(note), "long"]) == 0
    capsys.readouterr()
    script = (f"{sys.executable} -m omegacore.cli --mongo-url '{omega_database_url}' "
              "get long | head -n 2")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True,
                            text=True, timeout=120, env=env)
    assert (result.stdout, result.stderr) == ("NOTE:\na line of the note\n", "")
    assert result.returncode == 141
