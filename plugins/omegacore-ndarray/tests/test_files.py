"""``omegacore put``/``get`` of ``.npy`` files on a real server."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from omegacore import OmegaStore
from omegacore.cli import main


def test_npy_round_trip(store: OmegaStore, omega_database_url: str, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    array = np.arange(12, dtype="int16").reshape(3, 4)
    np.save(tmp_path / "a.npy", array)
    url = ["--mongo-url", omega_database_url]
    assert main([*url, "put", str(tmp_path / "a.npy"), "matrix"]) == 0
    assert capsys.readouterr().out == "stored matrix (ndarray.bin): 3 rows x 4 columns\n"
    assert store.metadata("matrix").kind == "ndarray.bin"
    np.testing.assert_array_equal(store.get("matrix"), array)
    assert main([*url, "get", "matrix", "-o", str(tmp_path / "b.npy")]) == 0
    back = np.load(tmp_path / "b.npy")
    assert back.dtype == np.dtype("int16") and (back == array).all()


def test_bad_npy_files(omega_database_url: str, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    url = ["--mongo-url", omega_database_url]
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    assert main([*url, "put", str(tmp_path / "junk.npy"), "x"]) == 4
    assert capsys.readouterr().err.startswith("omegacore: junk.npy: not a valid .npy file")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main([*url, "put", str(tmp_path / "objects.npy"), "x"]) == 4
    assert "holds Python objects (a pickle)" in capsys.readouterr().err
