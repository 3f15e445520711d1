"""Hook implementations of omegacore-revisions (imports nothing heavy)."""

from __future__ import annotations

from omegacore import MixinSpec, hookimpl


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    return [
        MixinSpec(
            "omegacore_revisions.mixin:RevisionsMixin",
            description="data revisions: put(df, name, revisions=True), changesets merged by "
                        "index, get(name, revision=N|datetime|tag), changeset=, "
                        "trace_revisions=",
        )
    ]
