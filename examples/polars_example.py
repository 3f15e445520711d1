"""Store polars DataFrames with omegacore (needs the omegacore-polars plugin).

Run it with ``python examples/polars_example.py``. With no ``OMEGA_MONGO_URL`` set, the
store uses the embedded default server. Objects are stored under the prefix
``examples/`` and dropped again at the end.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from omegacore import OmegaStore


def main() -> int:
    store = OmegaStore(prefix="examples/")
    sales = pl.DataFrame(
        {
            "day": [dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)],
            "shop": ["north", "south", None],
            "items": [["tea", "cake"], ["coffee"], []],
            "amount": [12.5, 4.0, None],
        }
    )
    names = ["polars/sales", "polars/summary"]
    try:
        meta = store.put(sales, names[0], attributes={"source": "polars_example.py"})
        print(f"put   {names[0]} as {meta.kind}:\n{sales}")
        print(f"kind_meta: {meta.kind_meta}")

        summary = sales.group_by("shop").agg(pl.col("amount").sum()).sort("shop")
        store.put_polars(summary, names[1])  # type: ignore[attr-defined]
        print(f"put_polars {names[1]}")

        print(f"list  {store.list('polars/*')}")
        print(f"get   {names[0]}:\n{store.get(names[0])}")
        print(f"get   {names[0]} columns=['day', 'amount']:\n"
              f"{store.get(names[0], columns=['day', 'amount'])}")
        try:
            store.get(names[0], columns=["price"])
        except ValueError as exc:
            print(f"unknown column -> ValueError: {exc}")
    finally:
        for name in names:
            store.drop(name, force=True)
        print(f"dropped; left: {store.list('polars/*')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
