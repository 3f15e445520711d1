"""Does omegaml 0.18 read what we write? Writes every kind with omegacore, reads it with omegaml.

Runs with this project's environment; omegaml runs in its own virtualenv, named by
``--omegaml-python`` (or ``OMEGAML_PYTHON``)::

    python3 -m venv /tmp/omegaml-venv && /tmp/omegaml-venv/bin/pip install omegaml==0.18.0
    python tests/compat/omegaml018/check_omegaml_reads_ours.py \\
        --omegaml-python /tmp/omegaml-venv/bin/python

With ``--through-archive``, omegaml first imports (``from_archive``) an archive of every
object that omegacore-archive wrote, into a database of its own, and reads from there.

It stores one or more objects of every installed kind in a fresh database (on the
server ``--mongo-url`` names, else on a SecantusDB server started for the run), records
what our own ``get`` returns for each, then runs read_ours.py with omegaml, which reads
each object with omegaml's ``get`` and compares. It prints one line per object and a
table kind -> ok / differs / unsupported (omegaml 0.18 has no such kind), and exits 1
if any object reads differently in omegaml.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from omegaml018_dump import write_dump  # noqa: E402
from omegaml018_values import record_call  # noqa: E402

from omegacore import OmegaStore  # noqa: E402

HERE = Path(__file__).parent

def objects() -> list[tuple[str, str, Callable[[OmegaStore], Any]]]:
    """(prefix, name, put) for every object to write; put stores it in the given store."""
    days = pd.to_datetime(["2024-01-01 10:00:00.123", "2024-01-02", "2024-02-29 23:59:59"],
                          format="ISO8601")
    basic = pd.DataFrame({
        "i": np.arange(3, dtype="int64"),
        "f": [0.5, np.nan, -1.25],
        "o": pd.Series(["a", None, "c"], dtype=object),
        "b": [True, False, True],
        "ts": days,
        "tz": pd.date_range("2024-03-30 23:00", periods=3, freq="h", tz="Europe/Zurich"),
    })
    x = np.arange(10, dtype=float).reshape(-1, 1)

    def model() -> Any:
        from sklearn.linear_model import LinearRegression

        return LinearRegression().fit(x, 3 * x.ravel() + 1)

    def appended(store: OmegaStore) -> Any:
        store.put(pd.DataFrame({"a": [1, 2]}), "frame_appended")
        return store.put(pd.DataFrame({"a": [3]}, index=[7]), "frame_appended", append=True)

    def registered(store: OmegaStore) -> Any:
        store.mongodb["ext_events"].insert_many([{"user": {"id": 1}, "n": 1},
                                                 {"user": {"id": 2}, "n": 2}])
        return store.put(store.mongodb["ext_events"], "raw_registered")

    def pydata(store: OmegaStore) -> Any:
        store.put({"k": 1, "tags": ["a"]}, "pydict")
        return store.put({"k": 2, "tags": ["a", "b"]}, "pydict")

    items: list[tuple[str, str, Callable[[OmegaStore], Any]]] = [
        ("data/", "frame_basic", lambda s: s.put(basic, "frame_basic")),
        ("data/", "frame_str", lambda s: s.put(pd.DataFrame({"s": ["x", None, "z"]}),
                                               "frame_str")),
        ("data/", "frame_multiindex", lambda s: s.put(pd.DataFrame(
            {"v": [1, 2, 3]}, index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)],
                                                              names=["letter", "num"])),
            "frame_multiindex")),
        ("data/", "frame_dtindex", lambda s: s.put(pd.DataFrame(
            {"y": [1.0, 2.0]}, index=pd.date_range("2024-01-01", periods=2, freq="D")),
            "frame_dtindex")),
        ("data/", "frame_named_index", lambda s: s.put(pd.DataFrame(
            {"x": [1.0, 2.0]}, index=pd.Index([10, 20], name="key")), "frame_named_index")),
        ("data/", "frame_appended", appended),
        ("data/", "series_float", lambda s: s.put(pd.Series([1.5, np.nan], name="price"),
                                                  "series_float")),
        ("data/", "grouped", lambda s: s.put(pd.DataFrame(
            {"g": ["n", "s", "n"], "v": [1, 2, 3]}), "grouped", groupby=["g"])),
        ("data/", "hdf_frame", lambda s: s.put(pd.DataFrame(
            {"x": [1.0, np.nan], "t": pd.date_range("2024-05-01", periods=2, freq="min")}),
            "hdf_frame", as_hdf=True)),
        ("data/", "array_float", lambda s: s.put(np.array([[0.5, np.nan], [3.0, -4.0]]),
                                                 "array_float")),
        ("data/", "array_int", lambda s: s.put(np.arange(5, dtype="int32"), "array_int")),
        ("data/", "array_float32", lambda s: s.put(np.arange(4, dtype="float32"),
                                                   "array_float32")),
        ("data/", "pydict", pydata),
        ("data/", "pylistoflists", lambda s: s.put([[1, 2], [3, 4]], "pylistoflists")),
        ("data/", "model_in_datasets", lambda s: s.put(model(), "model_in_datasets")),
        ("models/", "regression", lambda s: s.put(model(), "regression")),
        ("data/", "raw_dicts", lambda s: s.put([{"a": 1, "b": {"c": 2}}, {"a": 3, "b": {"c": 4}}],
                                               "raw_dicts", as_raw=True)),
        ("data/", "raw_registered", registered),
        ("data/", "files/blob.bin", lambda s: s.put(io.BytesIO(bytes(range(256)) * 3000),
                                                    "files/blob.bin")),
        ("models/", "generic", lambda s: s.put(model(), "generic", kind="python.model")),
    ]
    try:
        import polars as pl
    except ImportError:
        pass
    else:
        items.append(("data/", "polars_frame", lambda s: s.put(
            pl.DataFrame({"a": [1, 2], "b": ["x", "y"]}), "polars_frame")))
    return items


def write(url: str) -> list[dict[str, Any]]:
    """Store every object with omegacore; return the cases with what our get returns."""
    stores = {prefix: OmegaStore(mongo_url=url, prefix=prefix) for prefix in ("data/", "models/")}
    cases = []
    for prefix, name, put in objects():
        store = stores[prefix]
        put(store)
        cases.append({"prefix": prefix, "name": name, "kwargs": {},
                      "kind": store.metadata(name).kind,
                      "value": record_call(store.get, name)})
    written = {c["kind"] for c in cases}
    for kind in sorted(set(stores["data/"].plugins.kinds()) - written):
        cases.append({"prefix": "data/", "name": None, "kwargs": {}, "kind": kind,
                      "value": None})
    return cases


def export(url: str, cases: list[dict[str, Any]], archive: Path) -> None:
    """Write every object of ``cases`` into one archive (omegacore-archive)."""
    for case in cases:
        if case["name"] is not None:
            OmegaStore(mongo_url=url, prefix=case["prefix"]).to_archive(case["name"], archive)


def run(omegaml_python: str, url: str, through_archive: bool = False) -> int:
    """Write, read with omegaml, print the table; the exit status (1 if something differs).

    ``through_archive``: omegaml reads each object after importing it (``from_archive``)
    from an archive omegacore wrote, into a database of its own.
    """
    cases = write(url)
    with tempfile.TemporaryDirectory() as tmp:
        expected = Path(tmp) / "expected.json.gz"
        write_dump(expected, {"cases": [c for c in cases if c["name"] is not None]})
        command = [omegaml_python, str(HERE / "read_ours.py"), url, str(expected)]
        if through_archive:
            export(url, cases, Path(tmp) / "archive")
            head, _, query = url.partition("?")
            command[2] = f"{head}_imported?{query}"
            command.append(str(Path(tmp) / "archive"))
        proc = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr, file=sys.stderr)
        return 2
    results = {(r["prefix"], r["name"]): r for r in map(json.loads, proc.stdout.splitlines())}
    by_kind: dict[str, list[str]] = {}
    failed = False
    print(f"{'kind':<16} {'object':<24} {'omegaml 0.18 reads it':<12}")
    for case in cases:
        if case["name"] is None:
            status, detail = "no case", "no object of this kind is written by this script"
        else:
            result = results[(case["prefix"], case["name"])]
            status, detail = result["status"], result.get("detail", "")
            failed = failed or status == "differs"
        by_kind.setdefault(case["kind"], []).append(status)
        label = f"{case['prefix']}{case['name']}" if case["name"] else "-"
        print(f"{case['kind']:<16} {label:<24} {status:<12} {detail[:160]}")
    print("\nkind -> result")
    for kind, statuses in sorted(by_kind.items()):
        summary = statuses[0] if len(set(statuses)) == 1 else "/".join(sorted(set(statuses)))
        print(f"  {kind:<16} {summary} ({len(statuses)} object(s))")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--omegaml-python", default=os.environ.get("OMEGAML_PYTHON"),
                        help="python of a virtualenv with omegaml 0.18 (or OMEGAML_PYTHON)")
    parser.add_argument("--mongo-url", default=None,
                        help="server to use (default: a SecantusDB server started for the run)")
    parser.add_argument("--through-archive", action="store_true",
                        help="omegaml imports our archive of every object, then reads it")
    args = parser.parse_args(argv)
    if not args.omegaml_python:
        parser.error("give --omegaml-python (or set OMEGAML_PYTHON) to omegaml's python")
    database = f"omegaml_reads_ours_{uuid.uuid4().hex[:8]}"
    if args.mongo_url:
        head, _, query = args.mongo_url.partition("?")
        server = head.split("/")[0:3]
        return run(args.omegaml_python, "/".join(server) + f"/{database}?{query}",
                   args.through_archive)
    from omegacore.server import start_server, stop_server

    with tempfile.TemporaryDirectory() as tmp:
        state = start_server(Path(tmp))
        try:
            head, _, query = state["url"].partition("?")
            return run(args.omegaml_python,
                       "/".join(head.split("/")[0:3]) + f"/{database}?{query}",
                       args.through_archive)
        finally:
            from omegacore.connection import disconnect_all

            disconnect_all()
            stop_server(Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
