"""Every example in README.md, docs/ and the plugin READMEs runs (see docs_blocks).

Python blocks run against the test server (``OMEGA_MONGO_URL`` points at a database of
the test's own), shell blocks run their ``omegacore`` commands through the command line,
in a temporary working directory; the embedded server of ``omegacore server ...``
commands lives in a temporary directory too.
"""

from __future__ import annotations
import __future__

import contextlib
import io
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_blocks import ROOT, RUN, SHOWN, Block, blocks, commands, pages

import omegacore
from omegacore import server
from omegacore.cli import main

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: TOML blocks are parsed on newer Pythons only
    tomllib = None  # type: ignore[assignment]

PAGES = pages()


def _ids(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_pages_are_found() -> None:
    names = {_ids(p) for p in PAGES}
    assert {"README.md", "docs/user-guide.md", "docs/plugin-guide.md",
            "plugins/omegacore-pandas-dfrows/README.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=_ids)
def test_every_block_runs_or_says_why_not(page: Path) -> None:
    for block in blocks(page):
        if block.not_run is not None:
            assert block.not_run.strip(), f"{block.where()}: not-run needs a reason"
            continue
        assert block.lang, (f"{block.where()}: give the block a language (python, bash, "
                            "toml ... to run it, text for output or illustrations)")
        assert block.lang in RUN | SHOWN, (
            f"{block.where()}: {block.lang} blocks cannot run; mark the block "
            "<!-- not-run: reason --> or use text")
        if block.lang in ("bash", "sh", "shell", "console") and block.file is None:
            for command in commands(block):
                assert _runnable(command), (
                    f"{block.where()}: {command!r} is not an omegacore or python FILE "
                    "command; mark the block <!-- not-run: reason -->")


def _runnable(command: str) -> bool:
    words = shlex.split(command, comments=True)
    if not words:
        return True
    return words[0] == "omegacore" or (
        words[0] == "python" and len(words) >= 2 and words[1].endswith(".py"))


@pytest.fixture
def docs_env(omega_database_url: str, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory, the test database as the default, a private embedded server."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("OMEGA_MONGO_URL", omega_database_url)
    monkeypatch.setenv("OMEGA_SERVER_DIR", str(tmp_path / "server"))
    monkeypatch.setenv("OMEGA_PROGRESS", "0")
    for name in omegacore.DEFAULT_STORES:
        monkeypatch.delitem(vars(omegacore), name, raising=False)
    try:
        yield work
    finally:
        server.stop_server(tmp_path / "server")
        for name in omegacore.DEFAULT_STORES:
            vars(omegacore).pop(name, None)


def _run_python(block: Block, namespace: dict) -> None:
    flags = __future__.annotations.compiler_flag
    code = compile(block.code, block.where(), "exec", flags=flags, dont_inherit=True)
    exec(code, namespace)


def _run_shell(block: Block) -> None:
    for command in commands(block):
        words = shlex.split(command, comments=True)
        if not words:
            continue
        if words[0] == "omegacore":
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(words[1:])
            assert code == 0, f"{block.where()}: {command!r} exited {code}: {err.getvalue()}"
        else:
            script = ROOT / words[1]
            result = subprocess.run([sys.executable, str(script), *words[2:]], cwd=ROOT,
                                    capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, (
                f"{block.where()}: {command!r} exited {result.returncode}:\n{result.stderr}")


@pytest.mark.parametrize("page", [p for p in PAGES if any(
    b.not_run is None and b.file is None and b.lang in RUN for b in blocks(p))], ids=_ids)
def test_page_examples_run(page: Path, docs_env: Path) -> None:
    namespace: dict = {"__name__": "__docs__"}
    for block in blocks(page):
        if block.not_run is not None or block.file is not None:
            continue
        if block.lang == "python":
            _run_python(block, namespace)
        elif block.lang in ("bash", "sh", "shell", "console"):
            _run_shell(block)
        elif block.lang == "toml" and tomllib is not None:
            tomllib.loads(block.code)
        elif block.lang == "json":
            json.loads(block.code)


def _example_projects() -> list[tuple[Path, str]]:
    found = set()
    for page in PAGES:
        for block in blocks(page):
            if block.file:
                found.add((page, block.file.split("/", 1)[0]))
    return sorted(found)


@pytest.mark.parametrize("page,project", _example_projects(),
                         ids=[f"{_ids(p)}:{n}" for p, n in _example_projects()])
def test_example_project_builds_and_its_tests_pass(page: Path, project: str, tmp_path: Path,
                                                   omega_mongo_url: str) -> None:
    for block in blocks(page):
        if block.file and block.file.split("/", 1)[0] == project:
            target = tmp_path / block.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")
    source = tmp_path / project
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(source)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = wheels.glob("*.whl")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "zipfile", "-e", str(wheel), str(site)], check=True)
    assert list(site.glob("*.dist-info/entry_points.txt")), "the wheel declares no entry point"
    env = {**os.environ, "PYTHONPATH": str(site), "OMEGA_MONGO_URL": omega_mongo_url,
           "OMEGA_PROGRESS": "0"}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         str(source / "tests")], cwd=tmp_path, capture_output=True, text=True, env=env,
        timeout=600)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    last = tests.stdout.strip().splitlines()[-1]
    assert " passed" in last and "failed" not in last, last
    assert int(last.split(" passed")[0].split()[-1]) >= 10, last  # the kit ran


def test_hook_reference_matches_hookspecs() -> None:
    script = ROOT / "docs" / "gen_hooks.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
