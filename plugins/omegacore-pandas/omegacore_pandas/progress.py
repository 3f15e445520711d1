"""Progress bars for long puts and gets: only on a terminal, only for long work.

A bar is shown when ``omegacore.settings.progress_enabled()`` (``OMEGA_PROGRESS``) is on,
stderr is a terminal, tqdm is installed, and the work is expected to be long (at least
``min_total`` units); tqdm's ``delay`` then keeps it hidden for the first seconds, so
quick operations never print anything.
"""

from __future__ import annotations

import sys
from typing import Any

from omegacore import settings

#: seconds before a bar appears
DELAY_SECONDS = 2.0


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def would_show(total: int | None, min_total: int = 200_000) -> bool:
    """Whether a bar would be shown for work of ``total`` units (None: unknown, long)."""
    if not settings.progress_enabled():
        return False
    long_work = total is None or total >= min_total
    return long_work and sys.stderr is not None and sys.stderr.isatty()


def progress_bar(total: int | None, desc: str, unit: str = "rows", min_total: int = 200_000,
                 force: bool | None = None) -> Any:
    """A tqdm bar (context manager with ``update(n)``) or a silent stand-in.

    ``force=True``/``False`` overrides the terminal and size checks (not the setting).
    """
    if not settings.progress_enabled():
        return _NoBar()
    show = would_show(total, min_total) if force is None else force
    if not show:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return _NoBar()
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, delay=DELAY_SECONDS,
                leave=False)
