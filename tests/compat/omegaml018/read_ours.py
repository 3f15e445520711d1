"""Read objects written by omegacore with omegaml 0.18, and compare with what omegacore read.

Runs with omegaml's virtualenv, called by check_omegaml_reads_ours.py::

    OMEGAML_PYTHON read_ours.py MONGO_URL EXPECTED.json.gz [ARCHIVE]

With ARCHIVE (an archive omegacore wrote), each object is imported from it with omegaml's
``from_archive`` before it is read.

Prints one JSON line per case: ``{"prefix", "name", "status", "detail"}`` where status is
``ok`` (same value), ``differs`` (omegaml returned something else or raised: detail says
what) or ``unsupported`` (omegaml 0.18 has no such kind).
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

from omegaml018_dump import read_dump
from omegaml018_values import assert_same


def in_nanoseconds(rec: Any) -> Any:
    """The record with every datetime dtype in nanoseconds (values are kept in ns anyway)."""
    if isinstance(rec, dict):
        return {k: (v.replace("datetime64[us", "datetime64[ns").replace(
                    "datetime64[ms", "datetime64[ns").replace("datetime64[s", "datetime64[ns")
                    if k == "dtype" and isinstance(v, str) else in_nanoseconds(v))
                for k, v in rec.items()}
    if isinstance(rec, list):
        return [in_nanoseconds(v) for v in rec]
    return rec


def read_case(store: Any, case: dict[str, Any]) -> dict[str, Any]:
    result = {"prefix": case["prefix"], "name": case["name"]}
    if case["kind"] not in store.defaults.OMEGA_STORE_BACKENDS:
        return {**result, "status": "unsupported",
                "detail": f"omegaml 0.18 has no kind {case['kind']}"}
    try:
        got = store.get(case["name"], **case["kwargs"])
    except Exception as exc:  # omegaml has the kind but cannot read ours
        return {**result, "status": "differs",
                "detail": f"omegaml raises {type(exc).__name__}: {exc}"}
    if case["value"]["type"] == "error":
        return {**result, "status": "differs",
                "detail": f"omegacore raised {case['value']['class']}, omegaml returned "
                          f"{type(got).__name__}"}
    try:
        assert_same(got, case["value"])
    except AssertionError as exc:
        detail = " ".join(str(exc).split()) or repr(got)[:200]
        ns = in_nanoseconds(case["value"])
        if ns != case["value"]:  # our datetimes are not in ns: compare the rest too
            try:
                assert_same(got, ns)
            except AssertionError as rest:
                detail = (f"datetime unit (omegaml: ns); besides: "
                          f"{' '.join(str(rest).split())}")
            else:
                detail = f"only the datetime unit (omegaml: ns), values equal: {detail}"
        return {**result, "status": "differs", "detail": detail}
    except Exception as exc:  # e.g. a model whose predict fails
        return {**result, "status": "differs", "detail": f"{type(exc).__name__}: {exc}"}
    return {**result, "status": "ok"}


def main(url: str, expected: str, archive: str | None = None) -> None:
    """Read every case; with ``archive``, import each object from it first."""
    from omegaml.store import OmegaStore

    warnings.simplefilter("ignore")
    stores = {prefix: OmegaStore(mongo_url=url, prefix=prefix) for prefix in ("data/", "models/")}
    for case in read_dump(expected)["cases"]:
        store = stores[case["prefix"]]
        if archive is not None and case["kind"] in store.defaults.OMEGA_STORE_BACKENDS:
            try:
                store.from_archive(archive, case["name"])
            except Exception as exc:
                print(json.dumps({"prefix": case["prefix"], "name": case["name"],
                                  "status": "differs",
                                  "detail": f"omegaml's from_archive raises "
                                            f"{type(exc).__name__}: {exc}"}), flush=True)
                continue
        print(json.dumps(read_case(store, case)), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
