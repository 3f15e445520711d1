"""Two processes putting the same name at once: one metadata document, no orphans."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from omegacore_testing import data_footprint

WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from support_kinds import SupportKindsPlugin
    from omegacore import OmegaStore

    store = OmegaStore(mongo_url={url!r})
    store.plugins.register(SupportKindsPlugin(), name="test-kinds")
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for i in range(25):
        store.put({payload!r} * (i + 1), "contested")
        store.put([{payload!r}.decode()] * 3, "contested-rows", replace=True)
""")


def test_concurrent_puts_of_one_name(core_store, omega_database_url) -> None:
    tests = str(Path(__file__).parent)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER.format(tests=tests, url=omega_database_url,
                                                 payload=payload)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        for payload in (b"A", b"B")
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    meta = core_store.mongodb["metadata"]
    assert meta.count_documents({"name": "contested"}) == 1
    assert meta.count_documents({"name": "contested-rows"}) == 1
    assert core_store.get("contested") in (b"A" * 25, b"B" * 25)
    assert core_store.get("contested-rows") in (["A"] * 3, ["B"] * 3)
    names, files = data_footprint(core_store)
    assert (len(names), files) == (1, 1), (names, files)
