"""Hook implementations of omegacore-archive (imports nothing heavy)."""

from __future__ import annotations

from typing import Any

from omegacore import MixinSpec, hookimpl


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_archive.mixin:ArchiveMixin",
            description="to_archive(name, path) and from_archive(path, name=None): an object "
                        "and its data as a checked directory or .tar.gz",
        )
    ]


@hookimpl
def omega_cli_commands(subparsers: Any) -> None:
    from omegacore_archive.cli import add_commands

    add_commands(subparsers)
