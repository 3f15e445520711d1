"""Checks of arguments that the store and kind backends share, with errors that teach."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def check_flag(value: Any, name: str, allow_none: bool = False) -> bool | None:
    """Return ``value`` if it is a boolean (``True``/``False``, numpy's too), else TypeError.

    Flags take booleans only: ``append="no"`` is truthy and would append.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool):
        return value
    if type(value).__name__ == "bool" and type(value).__module__ == "numpy":
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def check_version(version: Any, method: str, name: Any) -> None:
    """Refuse ``version=`` where no versions plugin consumed it.

    The core stores one version of each object; ``-1`` (the latest) is the only version
    it can give. Installing ``omegacore-versions`` makes versions of any kind available.
    """
    if version is None or (isinstance(version, int) and not isinstance(version, bool)
                           and version == -1):
        return
    raise ValueError(
        f"{method}({name!r}, version={version!r}): this store keeps one version of "
        f"{name!r}, the latest (version=-1). Install omegacore-versions and put with "
        "versions=True to keep and read earlier versions")


def check_options(kwargs: Mapping[str, Any], accepted: Iterable[str], where: str) -> None:
    """TypeError naming the accepted keywords if ``kwargs`` holds any other."""
    unknown = sorted(str(k) for k in kwargs if k not in set(accepted))
    if unknown:
        raise TypeError(
            f"{where} got unexpected keyword argument{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; it takes {', '.join(sorted(accepted)) or 'none'}")
