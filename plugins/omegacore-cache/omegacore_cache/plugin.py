"""Hook implementations of omegacore-cache (imports nothing heavy)."""

from __future__ import annotations

from omegacore import MixinSpec, hookimpl


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_cache.mixin:CacheMixin",
            description="get() of unchanged 'cached/...' objects (or attributes cached=True) "
                        "from an in-process cache; get(name, force=True) reads anew",
        )
    ]
