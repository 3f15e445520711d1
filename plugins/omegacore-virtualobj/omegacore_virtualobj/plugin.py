"""Hook implementations of omegacore-virtualobj (imports nothing heavy)."""

from __future__ import annotations

from omegacore import KindSpec, MixinSpec, hookimpl

from omegacore_virtualobj import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    return [
        KindSpec(
            KIND,
            "omegacore_virtualobj.backend:VirtualObjectBackend",
            types=("omegacore_virtualobj.VirtualObject",),
            priority=90,
            description="@virtualobj callables (dill) that answer get/put/drop of their name",
        )
    ]


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_virtualobj.mixin:VirtualObjectMixin",
            order=40,
            description="put and drop of a virtual object's name call the object",
        )
    ]
