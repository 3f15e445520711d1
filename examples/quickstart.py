"""omegacore quickstart: store, list, read back and drop a few objects.

Run it with ``python examples/quickstart.py``. With no ``OMEGA_MONGO_URL`` set, the store
uses the embedded default server, started on first use. Objects are stored under the
prefix ``examples/`` and dropped again at the end. An object is skipped (with the plugin
to install, as the store names it) when no installed kind stores it.
"""

from __future__ import annotations

from typing import Any

from omegacore import NoKindForObject, OmegaStore


def sample_objects() -> list[tuple[str, Any]]:
    """(name, object) of the objects this example stores: a dict, a DataFrame, an array."""
    objects: list[tuple[str, Any]] = [
        ("quickstart/config", {"learning_rate": 0.1, "layers": [64, 32], "name": "demo"}),
    ]
    try:
        import pandas as pd

        frame = pd.DataFrame({"city": ["Zurich", "Basel", "Bern"], "temp": [21.5, 23.0, 19.8]})
        objects.append(("quickstart/weather", frame))
    except ImportError:
        print("pandas is not installed: skipping the DataFrame")
    try:
        import numpy as np

        objects.append(("quickstart/matrix", np.arange(12.0).reshape(3, 4)))
    except ImportError:
        print("numpy is not installed: skipping the array")
    return objects


def main() -> int:
    store = OmegaStore(prefix="examples/")
    print(f"store: {store!r}")
    stored: list[str] = []
    try:
        for name, obj in sample_objects():
            try:
                meta = store.put(obj, name)
            except NoKindForObject as exc:  # the message names the plugin to install
                print(f"skip  {name}: {exc}")
                continue
            stored.append(name)
            print(f"put   {name} as {meta.kind}:\n{obj}")

        print(f"list  {store.list('quickstart/*')}")
        for name in stored:
            stored_meta = store.metadata(name)
            assert stored_meta is not None
            print(f"meta  {name}: kind={stored_meta.kind}"
                  f" created={stored_meta.created:%Y-%m-%d %H:%M:%S}")
            print(f"get   {name}:\n{store.get(name)}")
    finally:
        for name in stored:
            store.drop(name, force=True)
        print(f"dropped {len(stored)} object(s); left: {store.list('quickstart/*')}")
    return 0 if stored else 1


if __name__ == "__main__":
    raise SystemExit(main())
