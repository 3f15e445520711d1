"""Write omegaml-0.18.json.gz: a database written by omegaml 0.18, and what omegaml reads back.

Runs with omegaml 0.18 in its own virtualenv (never imported by the tests), against an
empty database on a server started for the purpose::

    python3 -m venv /tmp/omegaml-venv && /tmp/omegaml-venv/bin/pip install omegaml==0.18.0
    secantusd-py --storage-path /tmp/omfix --port 27999 &      # from this project's venv
    cd tests/compat/omegaml018
    /tmp/omegaml-venv/bin/python make_fixture.py \\
        'mongodb://127.0.0.1:27999/omfix?retryWrites=false' omegaml-0.18.json.gz

It stores one object of every kind omegaml ships that this project's kinds cover (frames,
series, grouped frames, HDF, arrays, scikit-learn models, python data, raw dicts, files,
generic models, a versioned model, a revised frame), then writes one file with

- ``database``: every collection of the database (see omegaml018_dump.py), and
- ``cases``: for each object (and a few get arguments: version tags, revisions, filters)
  the record of what omegaml's own ``get`` returned (see omegaml018_values.py).

test_read_omegaml018.py restores the database and compares this project's ``get`` with
each case.
"""

from __future__ import annotations

import datetime
import fractions
import io
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from omegaml018_dump import dump_database, write_dump
from omegaml018_values import expect_index, record, record_call


def _serialize(store: Any, model: Any, filename: str, **kwargs: Any) -> str:
    """python.model serializer: plain joblib, so the default loader reads it back."""
    joblib.dump(model, filename)
    return filename


def _load(store: Any, infile: Any, filename: str | None = None, **kwargs: Any) -> Any:
    return joblib.load(infile)


def frames() -> dict[str, Any]:
    """Frames and series stored as rows (pandas.dfrows / pandas.serows)."""
    days = pd.to_datetime(["2024-01-01 10:00:00.123456", "2024-01-02", "2024-02-29 23:59:59",
                           "2024-06-30 12:00", "2024-12-31"], format="ISO8601")
    return {
        "frame_basic": pd.DataFrame({
            "i": np.arange(5, dtype="int64"),
            "f": [0.5, 1.5, np.nan, 3.5, -4.25],
            "s": ["a", "b", None, "d", "é"],
            "b": [True, False, True, False, True],
            "ts": days,
            "tz": pd.date_range("2024-03-30 22:00", periods=5, freq="h", tz="Europe/Zurich"),
        }),
        "frame_multiindex": pd.DataFrame(
            {"v": [1, 2, 3, 4], "w": [0.1, 0.2, 0.3, 0.4]},
            index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1), ("b", 2)],
                                            names=["letter", "num"])),
        "frame_dtindex": pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0]},
                                      index=pd.date_range("2024-01-01", periods=4, freq="D")),
        "frame_dtindex_tz": pd.DataFrame(
            {"y": [1, 2, 3]},
            index=pd.date_range("2024-01-01", periods=3, freq="D", tz="US/Eastern",
                                name="when")),
        "frame_named_index": pd.DataFrame({"x": [1.0, 2.0, 3.0]},
                                          index=pd.Index([10, 20, 30], name="key")),
        "frame_objnone": pd.DataFrame({"city": ["Zurich", None, "Basel"],
                                       "none": [None, None, None],
                                       "n": [1, 2, 3]}),
        "frame_oddcols": pd.DataFrame({"a.b": [1, 2], "c d": ["x", "y"], "e$": [1.5, 2.5]}),
        "series_float": pd.Series([1.5, 2.5, np.nan], name="price"),
        "series_str": pd.Series(["x", None, "z"], name="label"),
        "series_dt": pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02"]), name="day",
                               index=pd.Index(["a", "b"], name="k")),
    }


#: the grouped frame; omegaml 0.18 reads it back with the last row of each group repeated
GROUPED = pd.DataFrame({"region": ["north", "south", "north", "east"],
                        "sales": [10, 20, 30, 40], "price": [1.5, 2.5, 3.5, 4.5]})


def grouped_rows() -> pd.DataFrame:
    """The rows of GROUPED as stored: by group (sorted by key), rows in their order."""
    return GROUPED.sort_values("region", kind="stable").reset_index(drop=True)


def fill(ds: Any, ms: Any, workdir: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """Store every object; return the (prefix, name, get kwargs) cases to record."""
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for name, obj in frames().items():
        ds.put(obj, name, append=False)
    # appended three times: row ids continue, index labels repeat
    ds.put(pd.DataFrame({"a": [1, 2], "s": ["x", "y"]}), "frame_appended", append=False)
    ds.put(pd.DataFrame({"a": [3], "s": [None]}), "frame_appended")
    ds.put(pd.DataFrame({"a": [4, 5], "s": ["v", "w"]}, index=[7, 8]), "frame_appended")
    # pandas.dfgroup
    ds.put(GROUPED, "grouped", groupby=["region"])
    # pandas.hdf
    ds.put(pd.DataFrame({"x": [1.0, np.nan, 3.0], "s": ["a", "b", "c"],
                         "t": pd.date_range("2024-05-01", periods=3, freq="min")},
                        index=pd.Index([5, 6, 7], name="idx")), "hdf_frame", as_hdf=True)
    # ndarray.bin
    ds.put(np.array([[0.5, np.nan, 2.0], [3.0, 4.0, -5.5]]), "array_float")
    ds.put(np.arange(6, dtype="int32"), "array_int")
    ds.put(np.array([True, False, True]), "array_bool")
    # python.data: a dict appended several times, a list of lists appended several times
    for k in range(3):
        ds.put({"k": k, "name": f"item{k}", "tags": ["a", "b"][: k + 1]}, "pydict")
    ds.put([[1, 2], [3, 4]], "pylistoflists")
    ds.put([[5, 6]], "pylistoflists")
    ds.put([[7, 8], [9, 10], [11, 12]], "pylistoflists")
    ds.put({"n": None, "f": 1.25, "big": 2**40, "nested": {"list": [1, {"z": "deep"}]},
            "np_int": np.int64(7), "np_float": np.float64(0.5),
            "when": datetime.datetime(2024, 1, 2, 3, 4, 5)}, "pynested")
    ds.put((1, 2, (3, "x")), "pytuple")
    # pandas.rawdict: a registered collection, and dicts stored as_raw
    events = ds.mongodb["external_events"]
    events.insert_many([{"user": {"id": 1, "name": "ann"}, "n": 1},
                        {"user": {"id": 2, "name": "bob"}, "n": 2, "extra": "x"}])
    ds.put(events, "raw_registered")
    ds.put([{"a": 1, "b": {"c": 2}}, {"a": 3, "b": {"c": 4}, "d": "only here"}],
           "raw_dicts", as_raw=True)
    # python.file: from a file object and from a local path
    ds.put(io.BytesIO(b"hello world\n" * 3 + bytes(range(256))), "files/blob.bin")
    path = workdir / "data.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    ds.put(str(path), "files/data.csv")
    # a revised frame (DataRevisionMixin)
    ds.put(pd.DataFrame({"x": [1, 2, 3], "s": ["a", "b", "c"]}), "revised", revisions=True)
    ds.put(pd.DataFrame({"x": [20, 40], "s": ["B", "D"]}, index=[1, 3]), "revised",
           tag="second")
    ds.put(pd.DataFrame({"x": [0], "s": ["-"]}, index=[0]), "revised", delete=True)
    # models: scikit-learn (versioned with tags and a commit), unversioned, python.model
    from sklearn.linear_model import LinearRegression, LogisticRegression

    x = np.arange(10, dtype=float).reshape(-1, 1)
    for i, kwargs in enumerate([{"tag": "first"}, {}, {"tag": "prod"}, {"commit": "c0ffee"}]):
        ms.put(LinearRegression().fit(x, (i + 1) * x.ravel() + i), "regression", **kwargs)
    ms.put(LogisticRegression().fit(x, (x.ravel() > 4).astype(int)), "classifier",
           noversion=True)
    ds.put(LinearRegression().fit(x, x.ravel()), "model_in_datasets")
    ms.put(fractions.Fraction(1, 7), "generic", serializer=_serialize, loader=_load,
           noversion=True)
    ms.put({"threshold": 0.5}, "settings")  # python.data in the models store: versioned too
    ms.put({"threshold": 0.7}, "settings")

    for store in (ds, ms):
        cases += [(store.prefix, name, {}) for name in sorted(store.list())]
    cases += [
        ("data/", "pydict", {"filter": {"data.k": 2}}),
        ("data/", "raw_dicts", {"raw": True}),
        ("data/", "revised", {"revision": 0}),
        ("data/", "revised", {"revision": "second"}),
        ("data/", "revised", {"changeset": 1}),
        ("data/", "frame_basic", {"i__gte": 3}),
        ("models/", "regression@prod", {}),
        ("models/", "regression@first", {}),
        ("models/", "regression@c0ffee", {}),
        ("models/", "regression", {"version": -2}),
        ("models/", "regression^", {}),
        ("models/", "settings", {"version": -2}),
    ]
    return cases


def main(url: str, out: str) -> None:
    import omegaml
    import sklearn
    import tables
    from omegaml.store import OmegaStore

    warnings.simplefilter("ignore")
    ds = OmegaStore(mongo_url=url, prefix="data/")
    ms = OmegaStore(mongo_url=url, prefix="models/")
    db = ds.mongodb
    if db.list_collection_names():
        sys.exit(f"database {db.name} is not empty: give make_fixture.py a fresh one")
    with tempfile.TemporaryDirectory() as tmp:
        cases = fill(ds, ms, Path(tmp))
    stores = {"data/": ds, "models/": ms}
    recorded = []
    for prefix, name, kwargs in cases:
        store = stores[prefix]
        base = name.split("@")[0].rstrip("^")
        case = {"prefix": prefix, "name": name, "kwargs": kwargs,
                "kind": store.metadata(base).kind,
                "value": record_call(store.get, name, **kwargs)}
        if (prefix, name, kwargs) == ("data/", "grouped", {}):
            # omegaml's own result is wrong here (north: sales 30, 30 instead of 10, 30);
            # the case expects the stored rows, in the column order omegaml reads them
            # (the stored documents' key order, which varies with PYTHONHASHSEED), and
            # keeps omegaml's result for reference
            case["omegaml_value"] = case["value"]
            columns = list(expect_index(case["value"]["columns"]))
            case["value"] = record(grouped_rows()[columns])
            case["note"] = "omegaml 0.18 repeats the last row of each group; expect the rows"
        recorded.append(case)
    content = {
        "written_by": {"omegaml": omegaml.__version__, "pandas": pd.__version__,
                       "numpy": np.__version__, "scikit-learn": sklearn.__version__,
                       "tables": tables.__version__, "python": sys.version.split()[0]},
        "cases": recorded,
        "database": dump_database(db),
    }
    size = write_dump(out, content)
    errors = [c for c in recorded if c["value"]["type"] == "error"]
    print(f"wrote {out}: {size} bytes, {len(recorded)} cases, "
          f"{len(content['database'])} collections; omegaml raised for {len(errors)} cases")
    for c in errors:
        print(f"  {c['prefix']}{c['name']} {c['kwargs']}: {c['value']['class']}: "
              f"{c['value']['message']}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
