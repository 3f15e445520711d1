"""Hook implementations of omegacore-promotion (imports nothing heavy)."""

from __future__ import annotations

from omegacore import MixinSpec, hookimpl


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_promotion.mixin:PromotionMixin",
            description="promote(name, other_store, asname=None, drop=None, method='getput'): "
                        "copy an object to another prefix, bucket or database",
        )
    ]
