"""Hook implementations of omegacore-versions (imports nothing heavy)."""

from __future__ import annotations

from typing import Any

from omegacore import MixinSpec, hookimpl


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_versions.mixin:VersionsMixin",
            description="versions of any kind: name@tag, name^, version=-2, revisions(), "
                        "versions(), drop('name@tag'), keep=N",
        )
    ]


@hookimpl
def omega_cli_commands(subparsers: Any) -> None:
    from omegacore_versions.cli import add_command

    add_command(subparsers)
