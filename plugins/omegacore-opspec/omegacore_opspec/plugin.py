"""Entry point of omegacore-opspec: declares the store mixin (imports nothing heavy)."""

from __future__ import annotations

from omegacore import MixinSpec, hookimpl

#: outside of the projection mixin (50): the op-spec tail is split off first
ORDER = 40


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    """Adds ``name#op:k=v`` op-specs (iterchunks, rows) to ``get``/``getl``."""
    return [
        MixinSpec(
            "omegacore_opspec.mixin:OpSpecMixin",
            order=ORDER,
            description="get('name#iterchunks:chunksize=N'), get('name#rows:start=S,end=E')",
        )
    ]
