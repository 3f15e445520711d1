"""``omegacore put``/``get`` of ``.joblib`` model files on a real server."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
from omegacore import OmegaStore
from omegacore.cli import main
from sklearn.linear_model import LinearRegression


def test_joblib_round_trip(store: OmegaStore, omega_database_url: str, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    model = LinearRegression().fit(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
    joblib.dump(model, tmp_path / "m.joblib")
    url = ["--mongo-url", omega_database_url, "--prefix", "models/"]
    assert main([*url, "put", str(tmp_path / "m.joblib"), "linear"]) == 0
    assert capsys.readouterr().out == "stored linear (sklearn.joblib): LinearRegression\n"
    assert main([*url, "get", "linear", "-o", str(tmp_path / "back.joblib")]) == 0
    back = joblib.load(tmp_path / "back.joblib")
    assert back.predict(np.array([[10.0]]))[0] == pytest.approx(21.0)


def test_a_joblib_file_that_is_no_model(omega_database_url: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    joblib.dump({"not": "a model"}, tmp_path / "d.joblib")
    assert main(["--mongo-url", omega_database_url, "put", str(tmp_path / "d.joblib"),
                 "x"]) == 4
    assert capsys.readouterr().err == (
        "omegacore: d.joblib: holds a dict, not a scikit-learn estimator\n")
