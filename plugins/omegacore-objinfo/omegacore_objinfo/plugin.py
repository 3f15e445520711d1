"""Hook implementations of omegacore-objinfo (imports nothing heavy)."""

from __future__ import annotations

from omegacore import MixinSpec, hookimpl


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_objinfo.mixin:ObjectInfoMixin",
            description="summary(name), stats(pattern), dbstats()",
        )
    ]
