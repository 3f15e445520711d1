"""``omegacore put``/``get`` of DataFrames: CSV, TSV, Parquet and Excel files, on a real server."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from omegacore import OmegaStore
from omegacore.cli import main


@pytest.fixture
def cli(omega_database_url: str, capsys: pytest.CaptureFixture[str]):
    """Run ``omegacore --mongo-url URL ARGS...``; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--mongo-url", omega_database_url, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "city": ["Zurich", "Basel", "Bern"],
        "temp": [21.5, 23.0, np.nan],
        "rain": [0, 3, 1],
        "day": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        "at": pd.to_datetime(["2024-01-01 10:00:00", "2024-01-02 11:30:15",
                              "2024-01-03 00:00:01"]),
    })


def test_csv_round_trip_gives_the_same_file_and_frame(cli, store: OmegaStore,
                                                      tmp_path: Path) -> None:
    source = tmp_path / "weather.csv"
    _frame().to_csv(source, index=False)
    code, out, err = cli("put", str(source), "weather", "--prefix", "data/")
    assert (code, out, err) == (0, "stored weather (pandas.dfrows): 3 rows x 5 columns\n", "")
    frame = _stored(store, "data/", "weather")
    assert_frame_equal(frame, _frame())  # dates detected: datetime64, not strings
    written = tmp_path / "back.csv"
    code, _, err = cli("get", "data/weather", "-o", str(written))
    assert (code, err) == (0, f"wrote data/weather (3 rows x 5 columns) to {written}\n")
    assert written.read_text() == source.read_text()
    code, out, _ = cli("get", "data/weather")
    assert out == source.read_text()


def _stored(store: OmegaStore, prefix: str, name: str) -> pd.DataFrame:
    other = OmegaStore(mongo_url=_url_of(store), prefix=prefix)
    return other.get(name)


def _url_of(store: OmegaStore) -> str:
    host, port = store.mongodb.client.address
    return f"mongodb://{host}:{port}/{store.mongodb.name}?retryWrites=false"


def test_an_index_is_written_so_that_put_reads_it_back(cli, store: OmegaStore,
                                                       tmp_path: Path) -> None:
    frame = _frame().iloc[[2, 0]]  # not the default index: 2, 0
    store.put(frame, "picked")
    out_csv = tmp_path / "picked.csv"
    assert cli("get", "picked", "-o", str(out_csv))[0] == 0
    assert out_csv.read_text().splitlines()[0] == ",city,temp,rain,day,at"
    assert cli("put", str(out_csv), "again")[0] == 0
    assert_frame_equal(store.get("again"), store.get("picked"))
    named = _frame().set_index("city")
    store.put(named, "named")
    code, _, err = cli("get", "named", "-o", str(tmp_path / "named.csv"))
    assert code == 0 and "--index-col city" in err
    assert cli("put", str(tmp_path / "named.csv"), "named2", "--index-col", "city")[0] == 0
    assert_frame_equal(store.get("named2"), store.get("named"))


def test_parse_dates_options(cli, store: OmegaStore, tmp_path: Path) -> None:
    source = tmp_path / "d.csv"
    source.write_text("when,other,n\n03/01/2024,2024-01-05,1\n04/01/2024,2024-01-06,2\n")
    assert cli("put", str(source), "auto")[0] == 0
    auto = store.get("auto")
    assert auto["other"].dtype.kind == "M" and auto["when"].dtype.kind != "M"
    assert cli("put", str(source), "none", "--parse-dates", "none")[0] == 0
    assert store.get("none")["other"].dtype.kind != "M"
    assert cli("put", str(source), "explicit", "--parse-dates", "when")[0] == 0
    explicit = store.get("explicit")
    assert list(explicit["when"]) == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-04-01")]
    assert explicit["other"].dtype.kind != "M"
    code, out, err = cli("put", str(source), "x", "--parse-dates", "nope")
    assert (code, out) == (4, "")
    assert err == ("omegacore: d.csv: --parse-dates nope names no column; the columns are "
                   "when, other, n\n")


def test_bad_csv_files_are_one_line_errors(cli, store: OmegaStore, tmp_path: Path) -> None:
    store.put(pd.DataFrame({"a": [1]}), "kept")
    cases = {
        "empty.csv": ("", "the file is empty: a CSV file needs a header line"),
        "ragged.csv": ('a,b\n1,2\n"3,4\n', "not valid CSV ("),
        "latin.csv": ("a\n\xe9t\xe9\n", "not UTF-8 text"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(text.encode("latin-1"))
        code, out, err = cli("put", str(path), "kept")
        assert (code, out) == (4, ""), name
        assert err.startswith(f"omegacore: {name}: {message}") and err.count("\n") == 1, err
    assert_frame_equal(store.get("kept"), pd.DataFrame({"a": [1]}))  # unchanged
    good = tmp_path / "good.csv"
    good.write_text("a,b\n1,2\n")
    code, _, err = cli("put", str(good), "x", "--index-col", "id")
    assert (code, err) == (4, "omegacore: good.csv: --index-col id names no column; the "
                              "columns are a, b\n")
    assert store.get("x") is None


def test_extensions_are_honoured_or_refused(cli, store: OmegaStore, tmp_path: Path) -> None:
    frame = _frame()
    store.put(frame, "w")
    for name in ("w.tsv", "w.csv.gz", "w.parquet", "w.xlsx"):
        target = tmp_path / name
        code, _, err = cli("get", "w", "-o", str(target))
        assert code == 0, err
        assert cli("put", str(target), f"from/{name}")[0] == 0
        assert_frame_equal(store.get(f"from/{name}"), frame, check_dtype=name != "w.xlsx")
    assert (tmp_path / "w.tsv").read_text().splitlines()[0] == "city\ttemp\train\tday\tat"
    assert (tmp_path / "w.xlsx").read_bytes()[:2] == b"PK"  # a real workbook, not CSV
    (tmp_path / "w.txt").write_text("a\n1\n")
    code, _, err = cli("put", str(tmp_path / "w.txt"), "t")
    assert code == 2 and err.startswith("omegacore: w.txt: omegacore reads files ending in ")
    code, _, err = cli("get", "w", "-o", str(tmp_path / "w.txt"))
    assert code == 2 and "w.txt: omegacore writes files ending in" in err
    code, _, err = cli("get", "w", "-o", str(tmp_path / "w.npy"))
    assert code == 2 and "w is a pandas.dfrows object (DataFrame); it can be written as" in err
    code, _, err = cli("put", str(tmp_path / "w.parquet"), "p", "--index-col", "city")
    assert (code, err) == (2, "omegacore: --index-col does not apply to .parquet files "
                              "(reading)\n")


def test_corrupt_parquet_and_excel(cli, tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    code, out, err = cli("put", str(tmp_path / "bad.parquet"), "x")
    assert (code, out) == (4, "")
    assert err.startswith("omegacore: bad.parquet: not a valid Parquet file (")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    code, _, err = cli("put", str(tmp_path / "bad.xlsx"), "x")
    assert code == 4 and err.startswith("omegacore: bad.xlsx: not a valid .xlsx workbook")


def test_missing_optional_library_names_the_extra(cli, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyarrow" else real(name, *a))
    code, _, err = cli("put", str(tmp_path / "f.parquet"), "x")
    assert (code, err) == (7, 'omegacore: .parquet files need pyarrow: pip install '
                              '"omegacore-pandas-dfrows[parquet]"\n')


def test_append_from_the_command_line(cli, store: OmegaStore, tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(source, index=False)
    assert cli("put", str(source), "rows")[0] == 0
    assert cli("put", str(source), "rows", "--append")[0] == 0
    assert list(store.get("rows")["a"]) == [1, 2, 1, 2]
    assert cli("put", str(source), "rows")[0] == 0  # replaces by default
    assert list(store.get("rows")["a"]) == [1, 2]
