"""How omegaml-0.18.json was made: frames written by omegaml 0.18, dumped as extended JSON.

Run once, in a separate throwaway virtualenv with omegaml 0.18.0 (and its pandas 2.x),
against a server started for the purpose; never imported by the tests::

    python -m venv /tmp/omvenv && /tmp/omvenv/bin/pip install "omegaml==0.18.0"
    /tmp/omvenv/bin/python make_omegaml_fixture.py mongodb://127.0.0.1:PORT/omfix out.json

The test (test_omegaml_compat in test_dfrows.py) loads the metadata documents and row
documents into its database and reads them with omegacore. The frames below are the ones
the test expects back. (omegaml 0.18 with pandas 2.3 fails on NaT in datetime columns,
so the fixture has none.)
"""

import sys

import numpy as np
import pandas as pd
from bson import json_util


def frames() -> dict:
    days = ["2024-01-01 10:00:00.123", "2024-01-02 00:00:00.000", "2024-01-03 00:00:00.000",
            "2024-01-04 00:00:00.000", "2024-01-05 00:00:00.000"]
    return {
        "simple": pd.DataFrame({
            "i": np.arange(5, dtype="int64"),
            "f": [0.5, 1.5, np.nan, 3.5, 4.5],
            "s": ["a", "b", None, "d", "e"],
            "b": [True, False, True, False, True],
            "ts": pd.to_datetime(days),
            "tz": pd.date_range("2024-03-01", periods=5, freq="h", tz="Europe/Zurich"),
        }),
        "named_index": pd.DataFrame({"x": [1.0, 2.0, 3.0]},
                                    index=pd.Index([10, 20, 30], name="key")),
        "multi": pd.DataFrame({"v": [1, 2, 3, 4]}, index=pd.MultiIndex.from_tuples(
            [("a", 1), ("a", 2), ("b", 1), ("b", 2)], names=["letter", "num"])),
        "dtindex": pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0]},
                                index=pd.date_range("2024-01-01", periods=4, freq="D")),
        "oddcols": pd.DataFrame({"a.b": [1, 2], 1: [3.0, 4.0], "c": ["x", "y"]}),
        "series_named": pd.Series([1.5, 2.5, 3.5], name="price"),
        "series_unnamed": pd.Series([1, 2, 3]),
    }


def main(url: str, out: str) -> None:
    import omegaml
    from omegaml.store import OmegaStore

    store = OmegaStore(mongo_url=url, prefix="data/")
    for name, obj in frames().items():
        store.put(obj, name, append=False)
    # an appended frame: row ids continue
    store.put(pd.DataFrame({"a": [1, 2]}), "appended", append=False)
    store.put(pd.DataFrame({"a": [3, 4]}, index=[2, 3]), "appended")
    db = store.mongodb
    dump = {"omegaml_version": omegaml.__version__, "pandas_version": pd.__version__,
            "objects": []}
    for meta in db["metadata"].find({"prefix": "data/"}).sort("name", 1):
        docs = list(db[meta["collection"]].find().sort("_id", 1))
        try:
            got = repr(store.get(meta["name"]))
        except Exception as exc:  # record what omegaml itself reads back
            got = f"error: {exc!r}"
        dump["objects"].append({"metadata": meta, "documents": docs, "omegaml_get_repr": got})
    with open(out, "w") as fh:
        fh.write(json_util.dumps(dump, json_options=json_util.CANONICAL_JSON_OPTIONS, indent=1))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
