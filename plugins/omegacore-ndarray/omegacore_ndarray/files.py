"""numpy arrays as ``.npy`` files for ``omegacore put`` and ``omegacore get``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def read_npy(path: Path) -> np.ndarray:
    """Read an ``.npy`` file; object arrays (pickles) are refused, as they run code."""
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        detail = str(exc).splitlines()[0]
        if "pickle" in detail.lower():
            raise ValueError("holds Python objects (a pickle), which omegacore does not load "
                             "from files: save a numeric array") from exc
        raise ValueError(f"not a valid .npy file ({detail})") from exc
    except (OSError, EOFError) as exc:
        raise ValueError(f"not a valid .npy file ({exc})") from exc
    if not isinstance(array, np.ndarray):  # np.load of an .npz gives an NpzFile
        raise ValueError("not a single array: use .npy, not .npz")
    return array


def write_npy(obj: Any, path: Path) -> None:
    """Write an array as ``.npy`` (dtype and shape kept)."""
    np.save(path, np.asarray(obj), allow_pickle=False)
