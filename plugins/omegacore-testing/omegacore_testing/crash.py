"""Opt-in conformance suites that kill puts with SIGKILL and run concurrent writers.

A kind plugin adds them beside ``KindConformance`` (they use the same ``kind``,
``make_object``, ``assert_same``, ``put_kwargs`` and ``prefix``)::

    class TestMyKind(KindConformance, CrashConformance):
        kind = "mykind.v1"
        ...

    class TestMyKindAppends(AppendConformance):   # for kinds that append
        kind = "mykind.v1"
        def make_part(self, i): ...
        def combine(self, parts): ...

Objects travel to the writing processes pickled, so they must pickle.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from omegacore import OmegaStore
from omegacore.fsck import check as fsck
from omegacore.journal import Journal, name_key
from omegacore_testing.conformance import data_footprint, without_versions

#: fractions of a put's duration at which ``test_killed_at_random_points`` kills it
KILL_POINTS = (0.3, 0.7)
#: how long the server may still be running requests a killed process sent before it died;
#: the checks after a kill wait this long, so what such a request writes is there to be found
LATE_REQUESTS_SECONDS = 1.0


class PutProcess:
    """A put of ``obj`` under ``name`` run by ``python -m omegacore_testing.child``."""

    def __init__(self, store: OmegaStore, obj: Any, name: str, kwargs: dict[str, Any],
                 mode: str = "put"):
        fd, self.job = tempfile.mkstemp(prefix="omegacore-put-", suffix=".pickle")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump({"url": store.mongo_url, "prefix": store.prefix, "name": name,
                         "obj": obj, "kwargs": kwargs, "mode": mode}, fh)
        env = {**os.environ, "OMEGA_PROGRESS": "0"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "omegacore_testing.child", self.job],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        self._times: list[float] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._times.append(time.monotonic())
            self.lines.append(line.strip())

    def count(self, word: str) -> int:
        """How many lines starting with ``word`` the process printed so far."""
        return sum(line.startswith(word) for line in list(self.lines))

    def wait_for(self, word: str, timeout: float = 120.0) -> float:
        """Wait until the process prints ``word``; returns when (``time.monotonic()``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line, when in zip(list(self.lines), list(self._times), strict=False):
                if line.startswith(word):
                    return when
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.005)
        self.kill()
        stderr = self.proc.stderr.read() if self.proc.stderr and not self.proc.stderr.closed \
            else ""
        raise AssertionError(f"the put process did not print {word!r}: {self.lines} "
                             f"{stderr[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the process (if it still runs) and reap it."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        Path(self.job).unlink(missing_ok=True)

    def finish(self, timeout: float = 300.0) -> None:
        """Wait for the process to end by itself; fail with its stderr if it failed."""
        try:
            self.proc.wait(timeout=timeout)
            self._reader.join(5)
            stderr = self.proc.stderr.read() if self.proc.stderr else ""
        finally:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
            Path(self.job).unlink(missing_ok=True)
        if self.proc.returncode != 0:
            raise AssertionError(f"the put process failed:\n{stderr[-3000:]}")


@contextmanager
def killed_put(store: OmegaStore, obj: Any, name: str, kwargs: dict[str, Any],
               mode: str, delay: float = 0.0) -> Iterator[PutProcess]:
    """Run a put in another process and SIGKILL it (``mode="hold"``: just before commit)."""
    put = PutProcess(store, obj, name, kwargs, mode)
    try:
        put.wait_for("HOLD" if mode == "hold" else "START")
        if delay:
            time.sleep(delay)
        put.kill()
        time.sleep(LATE_REQUESTS_SECONDS)
        yield put
    finally:
        put.kill()


def _sizes(store: OmegaStore) -> tuple[int, int]:
    """How many data collections and GridFS files the store's database holds."""
    names, files = data_footprint(store)
    return len(names), files


def journal_entries(store: OmegaStore, name: str) -> list[dict[str, Any]]:
    """The journal entries of ``name`` still to clean up (puts in progress or interrupted).

    Entries already cleaned up that stay a while in case the dead process's last requests
    land late (``reaped``, see ``Journal.reap``) are not counted.
    """
    doc = Journal(store.mongodb).collection.find_one(
        {"_id": name_key(store.bucket, store.prefix, name)})
    return [e for e in (doc or {}).get("intents", []) if not e.get("reaped")]


class CrashConformance:
    """Puts killed with SIGKILL at several points leave the previous object, and nothing
    else once the next put of the name (or ``fsck``) has run."""

    kind: ClassVar[str] = ""
    put_kwargs: ClassVar[dict[str, Any]] = {}
    prefix: ClassVar[str] = ""

    def make_object(self, variant: int) -> Any:
        raise NotImplementedError

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert actual == expected

    @pytest.fixture
    def crash_store(self, omega_store_factory: Any, monkeypatch: pytest.MonkeyPatch) -> OmegaStore:
        without_versions(monkeypatch)
        return omega_store_factory(prefix=self.prefix)

    def _put(self, store: OmegaStore, obj: Any, name: str) -> Any:
        return store.put(obj, name, **{**self.put_kwargs, "replace": True})

    def test_killed_before_commit_keeps_previous(self, crash_store: OmegaStore) -> None:
        self._put(crash_store, self.make_object(0), "held")
        before = data_footprint(crash_store)
        meta = crash_store.metadata("held")
        with killed_put(crash_store, self.make_object(1), "held",
                        {**self.put_kwargs, "replace": True}, "hold"):
            pass
        after = crash_store.metadata("held")
        assert after is not None and meta is not None
        assert after.to_mongo() == meta.to_mongo()
        self.assert_same(self.make_object(0), crash_store.get("held"))
        assert journal_entries(crash_store, "held"), "the killed put left no journal entry"
        self._put(crash_store, self.make_object(2), "held")  # the next write cleans up
        self.assert_same(self.make_object(2), crash_store.get("held"))
        assert _sizes(crash_store) == (len(before[0]), before[1])
        assert journal_entries(crash_store, "held") == []

    def test_killed_first_put_is_repaired_by_fsck(self, crash_store: OmegaStore) -> None:
        before = data_footprint(crash_store)
        with killed_put(crash_store, self.make_object(0), "first",
                        dict(self.put_kwargs), "hold"):
            pass
        assert crash_store.metadata("first") is None
        report = fsck(crash_store)
        assert [p.kind for p in report.problems] == ["interrupted-put"]
        repaired = fsck(crash_store, repair=True)
        assert repaired.removed, repaired.to_dict()
        assert data_footprint(crash_store) == before
        assert fsck(crash_store).problems == []

    def test_killed_at_random_points(self, crash_store: OmegaStore) -> None:
        self._put(crash_store, self.make_object(0), "random")
        footprint = _sizes(crash_store)
        started = time.monotonic()  # how long a put takes, to spread the kills over it
        self._put(crash_store, self.make_object(1), "random")
        duration = time.monotonic() - started
        self._put(crash_store, self.make_object(0), "random")
        for fraction in KILL_POINTS:
            with killed_put(crash_store, self.make_object(1), "random",
                            {**self.put_kwargs, "replace": True}, "put",
                            delay=duration * fraction):
                pass
            got = crash_store.get("random")
            try:
                self.assert_same(self.make_object(0), got)
            except AssertionError:
                self.assert_same(self.make_object(1), got)
            self._put(crash_store, self.make_object(0), "random")
            assert _sizes(crash_store) == footprint, f"left behind when killed at {fraction}"
            assert journal_entries(crash_store, "random") == []
        assert fsck(crash_store).problems == []


class AppendConformance:
    """Appends are invisible until committed, killed appends leave the object as it was,
    and appends from several processes at once keep every row exactly once."""

    kind: ClassVar[str] = ""
    append_kwargs: ClassVar[dict[str, Any]] = {"append": True}
    prefix: ClassVar[str] = ""
    #: processes appending at once, and appends each
    writers: ClassVar[int] = 3
    appends: ClassVar[int] = 4

    def make_part(self, writer: int, i: int) -> Any:
        """The object appended by ``writer`` as its ``i``-th append (distinct for each)."""
        raise NotImplementedError

    def combine(self, parts: list[Any]) -> Any:
        """What the object holds after appending ``parts`` in this order."""
        raise NotImplementedError

    def assert_same_parts(self, parts: list[Any], actual: Any) -> None:
        """``actual`` holds exactly ``parts``, each whole, in any order of the parts."""
        raise NotImplementedError

    def assert_same(self, expected: Any, actual: Any) -> None:
        assert actual == expected

    @pytest.fixture
    def append_store(self, omega_store_factory: Any, monkeypatch: pytest.MonkeyPatch) -> OmegaStore:
        without_versions(monkeypatch)
        return omega_store_factory(prefix=self.prefix)

    def test_killed_append_is_invisible(self, append_store: OmegaStore) -> None:
        first = self.make_part(0, 0)
        append_store.put(first, "grown", **self.append_kwargs)
        with killed_put(append_store, self.make_part(1, 0), "grown", self.append_kwargs, "hold"):
            self.assert_same(self.combine([first]), append_store.get("grown"))
        self.assert_same(self.combine([first]), append_store.get("grown"))
        second = self.make_part(0, 1)
        append_store.put(second, "grown", **self.append_kwargs)
        self.assert_same(self.combine([first, second]), append_store.get("grown"))
        assert fsck(append_store).problems == []

    def test_killed_append_is_repaired_by_fsck(self, append_store: OmegaStore) -> None:
        first = self.make_part(0, 0)
        append_store.put(first, "grown", **self.append_kwargs)
        footprint = data_footprint(append_store)
        with killed_put(append_store, self.make_part(1, 0), "grown", self.append_kwargs, "hold"):
            pass
        assert not fsck(append_store).ok
        fsck(append_store, repair=True)
        assert fsck(append_store).problems == []
        assert data_footprint(append_store) == footprint
        self.assert_same(self.combine([first]), append_store.get("grown"))

    def test_concurrent_appends_keep_every_row_once(self, append_store: OmegaStore) -> None:
        first = self.make_part(0, 0)
        append_store.put(first, "shared", **self.append_kwargs)
        parts = [[self.make_part(w + 1, i) for i in range(self.appends)]
                 for w in range(self.writers)]
        writers = [_AppendLoop(append_store, "shared", p, self.append_kwargs) for p in parts]
        for writer in writers:
            writer.finish()
        self.assert_same_parts([first, *(p for ps in parts for p in ps)],
                               append_store.get("shared"))
        assert fsck(append_store).problems == []


class _AppendLoop(PutProcess):
    """Appends several objects one after the other in one process."""

    def __init__(self, store: OmegaStore, name: str, parts: list[Any], kwargs: dict[str, Any]):
        super().__init__(store, parts, name, kwargs, mode="parts")
