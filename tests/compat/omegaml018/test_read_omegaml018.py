"""A database written by omegaml 0.18 reads back as omegaml read it.

The fixture (omegaml-0.18.json.gz, written by make_fixture.py with omegaml in its own
virtualenv) holds the database and, for each object and a few get arguments, what
omegaml's own ``get`` returned. Each case restores the database and compares our
``get`` exactly: dtypes, index, names and values. Cases that differ today, and kinds not
installed yet, are strict xfails: the mark must go when the difference is fixed. Cases
with a deliberate difference (docs/compatibility.md) are compared after taking it out.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from omegaml018_loader import read_fixture, restore_fixture  # noqa: E402
from omegaml018_values import assert_same, expect_index  # noqa: E402

from omegacore import OmegaStore  # noqa: E402

CASES: list[dict[str, Any]] = read_fixture()["cases"]


def case_id(case: dict[str, Any]) -> str:
    args = ",".join(f"{k}={v!r}" for k, v in case["kwargs"].items())
    return f"{case['prefix']}{case['name']}" + (f"({args})" if args else "")



#: what differs today, by case id; each mark must go when the difference is fixed
XFAIL: dict[str, str] = {}


def _omegamls_columns(got: Any, case: dict[str, Any]) -> Any:
    """Our frame restricted to the columns omegaml gave (the first document's keys)."""
    columns = expect_index(case["value"]["columns"])
    assert set(columns) < set(got.columns), "omegaml's columns are a subset of ours"
    return got[list(columns)]


_ALL_KEYS = ("rawdict: every key of every document is a column; omegaml takes the first "
             "document's keys only, dropping later keys (docs/compatibility.md)")
_DOTS = ("a column put as 'a.b' comes back as 'a.b'; omegaml returns the stored name 'a_b' "
         "although its metadata maps it back (docs/compatibility.md)")


def _omegamls_dotted_names(got: Any, case: dict[str, Any]) -> Any:
    """Our frame with dots in column names replaced as omegaml stores (and returns) them."""
    renamed = [c.replace(".", "_") if isinstance(c, str) else c for c in got.columns]
    got = got.copy()
    got.columns = pd.Index(renamed, dtype=got.columns.dtype, name=got.columns.name)
    return got


#: deliberate differences (docs/compatibility.md), compared after taking the difference out
DELIBERATE: dict[str, tuple[str, Callable[[Any, dict[str, Any]], Any]]] = {
    "data/frame_oddcols": (_DOTS, _omegamls_dotted_names),
    "data/raw_dicts": (_ALL_KEYS, _omegamls_columns),
    "data/raw_dicts(raw=True)": (_ALL_KEYS, _omegamls_columns),
    "data/raw_registered": (_ALL_KEYS, _omegamls_columns),
}


def _param(case: dict[str, Any]) -> Any:
    cid = case_id(case)
    marks = [pytest.mark.xfail(strict=True, reason=XFAIL[cid])] if cid in XFAIL else []
    return pytest.param(case, id=cid, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_get_returns_what_omegaml_returned(case: dict[str, Any], omega_database_url: str,
                                           store_factory: Callable[..., OmegaStore]) -> None:
    restore_fixture(omega_database_url)
    store = store_factory(prefix=case["prefix"])
    got = store.get(case["name"], **case["kwargs"])
    deliberate = DELIBERATE.get(case_id(case))
    if deliberate is not None:
        got = deliberate[1](got, case)
    assert_same(got, case["value"])


def test_lists_what_omegaml_listed(omega_database_url: str,
                                   store_factory: Callable[..., OmegaStore]) -> None:
    restore_fixture(omega_database_url)
    for prefix in ("data/", "models/"):
        listed = sorted(c["name"] for c in CASES if c["prefix"] == prefix and not c["kwargs"]
                        and "@" not in c["name"] and not c["name"].endswith("^"))
        assert store_factory(prefix=prefix).list() == listed
