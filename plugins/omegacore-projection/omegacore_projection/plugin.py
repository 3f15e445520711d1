"""Entry point of omegacore-projection: declares the store mixin (imports nothing heavy)."""

from __future__ import annotations

from omegacore import MixinSpec, hookimpl

#: after the op-spec mixin (40), before the kind mixins (100); either order gives one result
ORDER = 50


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    """Adds ``name[a,b]``, ``name[a:c]``, ``name[^c]`` projections to ``get``/``getl``."""
    return [
        MixinSpec(
            "omegacore_projection.mixin:ProjectionMixin",
            order=ORDER,
            description="get('name[a,b]'), get('name[a:c]'), get('name[^c]'): column projection",
        )
    ]
