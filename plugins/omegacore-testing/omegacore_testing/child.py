"""A put in a process of its own, to be killed: ``python -m omegacore_testing.child JOB``.

``JOB`` is a pickle file holding ``{"url", "prefix", "name", "obj", "kwargs", "mode"}``.
The process prints one line when it reaches the point the test waits for and flushes:

- ``mode="hold"``: ``HOLD`` once the put has written its data, just before its metadata
  would switch (through the ``omega_before_commit`` hook); then it waits to be killed.
- ``mode="put"``: ``START`` right before the put begins, ``DONE`` after it returned.
- ``mode="loop"``: ``START``, then puts ``obj`` again and again (``PUT n`` after each).
- ``mode="parts"``: ``START``, then puts each item of the list ``obj`` in turn, ``DONE``.
"""

from __future__ import annotations

import pickle
import sys
import time
from typing import Any

from omegacore import OmegaStore, hookimpl


class _Hold:
    @hookimpl
    def omega_before_commit(self, store: Any, meta: Any, name: str, kind: str) -> None:
        print("HOLD", flush=True)
        time.sleep(600)


def main(path: str) -> int:
    with open(path, "rb") as fh:
        job = pickle.load(fh)
    store = OmegaStore(mongo_url=job["url"], prefix=job.get("prefix", ""))
    if job["mode"] == "hold":
        store.plugins.register(_Hold(), name="omegacore-testing-hold")
    print("START", flush=True)
    if job["mode"] == "parts":
        for part in job["obj"]:
            store.put(part, job["name"], **job.get("kwargs", {}))
        print("DONE", flush=True)
        return 0
    count = 0
    while True:
        store.put(job["obj"], job["name"], **job.get("kwargs", {}))
        count += 1
        if job["mode"] != "loop":
            break
        print(f"PUT {count}", flush=True)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
