"""Promotion on the real server: between prefixes, buckets and databases, every method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from omegacore import DoesNotExist, OmegaStore
from omegacore_testing import MixinConformance
from omegacore_testing.fixtures import _with_database

from omegacore_promotion.mixin import PromotionMixin


class TestPromotionMixin(MixinConformance):
    mixin = PromotionMixin
    distribution = "omegacore-promotion"


@pytest.fixture
def stores(store_factory: Callable[..., OmegaStore]) -> tuple[OmegaStore, OmegaStore]:
    return store_factory(prefix="dev/"), store_factory(prefix="prod/")


FRAME = pd.DataFrame({"g": ["a", "b", "a"], "x": [1.5, 2.5, 3.5]})

OBJECTS: dict[str, tuple[Any, dict[str, Any]]] = {
    "pandas.dfrows": (FRAME, {}),
    "pandas.dfgroup": (FRAME, {"groupby": "g"}),
    "pandas.parquet": (FRAME, {"as_parquet": True}),
    "pandas.hdf": (FRAME, {"as_hdf": True}),
    "ndarray.bin": (np.arange(6.0).reshape(2, 3), {}),
    "python.data": ({"k": [1, 2]}, {}),
}


@pytest.mark.parametrize("kind", sorted(OBJECTS))
def test_getput_copies_each_kind(stores: tuple[OmegaStore, OmegaStore], kind: str) -> None:
    dev, prod = stores
    obj, kwargs = OBJECTS[kind]
    dev.put(obj, "obj", attributes={"owner": "ann"}, **kwargs)
    meta = dev.promote("obj", prod)
    assert meta.kind == kind and meta.prefix == "prod/"
    assert meta.attributes == {"owner": "ann"}
    got, want = prod.get("obj"), dev.get("obj")
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want)
    elif isinstance(want, np.ndarray):
        np.testing.assert_array_equal(got, want)
    else:
        assert got == want
    assert dev.exists("obj"), "the source stays"


def test_attributes_merge_and_methods(stores: tuple[OmegaStore, OmegaStore]) -> None:
    dev, prod = stores
    prod.put(FRAME.head(1), "model", attributes={"owner": "ops", "stage": "prod"})
    dev.put(FRAME, "model", attributes={"owner": "ann", "score": 0.9})
    dev.promote("model", prod, method="data")
    assert prod.metadata("model").attributes == {"owner": "ops", "stage": "prod"}
    assert len(prod.get("model")) == 3
    dev.put(FRAME.head(2), "model", attributes={"owner": "bob", "score": 0.95}, append=False)
    dev.promote("model", prod, method="metadata")
    assert prod.metadata("model").attributes == {"owner": "bob", "stage": "prod",
                                                 "score": 0.95}
    assert len(prod.get("model")) == 3, "method='metadata' leaves the data"
    dev.promote("model", prod, drop=False)
    assert prod.metadata("model").attributes == {"owner": "bob", "stage": "prod",
                                                 "score": 0.95}
    assert len(prod.get("model")) == 2
    # omegaml's default outside models/: the target is replaced, attributes and all
    prod.put({"v": 0}, "plain", attributes={"stage": "prod"})
    dev.put({"v": 1}, "plain", attributes={"owner": "ann"})
    dev.promote("plain", prod)
    assert prod.metadata("plain").attributes == {"owner": "ann"}
    assert prod.get("plain") == [{"v": 1}]


def test_method_sequences_and_get_put_arguments(stores: tuple[OmegaStore, OmegaStore]
                                                ) -> None:
    dev, prod = stores
    dev.put(FRAME, "frame", attributes={"owner": "ann"})
    # omegaml's idiom 'metadata,data': data first, then the attributes onto it
    meta = dev.promote("frame", prod, method="metadata,data")
    assert meta.attributes == {"owner": "ann"} and len(prod.get("frame")) == 3
    meta = dev.promote("frame", prod, asname="big", get={"x__gt": 2}, method=["getput"])
    assert prod.get("big").x.tolist() == [2.5, 3.5]
    with pytest.raises(TypeError, match="get= takes a dict"):
        dev.promote("frame", prod, get=["x"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown promotion method 'data,copy'"):
        dev.promote("frame", prod, method="data,copy")


def test_asname_drop_and_errors(stores: tuple[OmegaStore, OmegaStore]) -> None:
    dev, prod = stores
    dev.put(FRAME, "draft")
    dev.promote("draft", prod, asname="final", drop=True)
    assert prod.get("final").x.tolist() == [1.5, 2.5, 3.5]
    assert dev.exists("draft"), "drop concerns the target (omegaml's meaning)"
    with pytest.raises(DoesNotExist, match="nothing to promote"):
        dev.promote("missing", prod)
    dev.put(FRAME, "x")
    with pytest.raises(ValueError, match="unknown promotion method 'copy'"):
        dev.promote("x", prod, method="copy")
    with pytest.raises(DoesNotExist, match="method='getput' first"):
        dev.promote("x", prod, method="metadata")
    with pytest.raises(TypeError, match="unexpected"):
        dev.promote("x", prod, compress=True)
    assert not prod.exists("x"), "a failed promotion stores nothing"


def test_between_databases_and_buckets(omega_database_url: str,
                                       store_factory: Callable[..., OmegaStore]) -> None:
    dev = store_factory(prefix="data/")
    other_db = OmegaStore(mongo_url=_with_database(omega_database_url, "promotion_target"),
                          prefix="data/")
    other_bucket = store_factory(prefix="data/", bucket="team")
    try:
        dev.put(np.arange(4), "arr", attributes={"v": 1})
        for target in (other_db, other_bucket):
            meta = dev.promote("arr", target)
            assert meta.attributes == {"v": 1}
            np.testing.assert_array_equal(target.get("arr"), np.arange(4))
        assert other_db.mongodb.name == "promotion_target"
        assert dev.list() == ["arr"]
    finally:
        other_db.mongodb.client.drop_database("promotion_target")


def test_versioned_objects_promote_the_current_or_named_version(
        stores: tuple[OmegaStore, OmegaStore]) -> None:
    dev, prod = stores
    dev.put({"v": 1}, "cfg", versions=True, tag="first")
    dev.put({"v": 2}, "cfg")
    dev.promote("cfg", prod)
    assert prod.get("cfg") == [{"v": 2}]
    assert "versions" not in (prod.metadata("cfg").attributes or {}), \
        "the history stays with the source"
    dev.promote("cfg@first", prod, asname="cfg_first")
    assert prod.get("cfg_first") == [{"v": 1}]
