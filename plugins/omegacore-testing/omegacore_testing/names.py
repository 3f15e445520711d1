"""Base tests for plugins that give object names a syntax (``omega_resolve_name``).

Subclass ``NameSyntaxConformance``, set ``distribution``, ``syntax_name`` (a name in your
syntax that refers to the object stored as ``stored_name``), and implement
``make_object`` and ``check_syntax_result``::

    class TestMySyntax(NameSyntaxConformance):
        distribution = "acme-names"
        syntax_name = "frame~latest"

        def make_object(self):
            return pd.DataFrame({"a": [1, 2]})

        def check_syntax_result(self, result, obj):
            assert result.equals(obj)
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any, ClassVar

import pytest
from pymongo import monitoring

from omegacore import OmegaStore
from omegacore.names import NameRef
from omegacore.settings import METADATA_COLLECTION
from omegacore_testing.mixins import PROBE_KIND, ProbeBytesBackend


class _MetadataReads(monitoring.CommandListener):
    """Counts reads of the metadata collection by clients created after it is registered."""

    def __init__(self) -> None:
        self.active = False
        self.reads: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = event.command
        if self.active and event.command_name == "find" and \
                command.get("find") == METADATA_COLLECTION:
            self.reads[event.database_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


_LISTENER = _MetadataReads()
monitoring.register(_LISTENER)


class NameSyntaxConformance:
    """The contract of a name-syntax plugin, checked against a real server."""

    #: the distribution that implements ``omega_resolve_name``
    distribution: ClassVar[str] = ""
    #: a name in the plugin's syntax, referring to the object stored as ``stored_name``
    syntax_name: ClassVar[str] = ""
    stored_name: ClassVar[str] = "frame"

    def make_object(self) -> Any:
        """The object stored as ``stored_name`` (default: a small DataFrame)."""
        import pandas as pd

        return pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "c": ["x", "y", "z"]})

    def check_syntax_result(self, result: Any, obj: Any) -> None:
        """Assert that ``get(syntax_name)`` gave what the syntax asks for of ``obj``."""
        raise NotImplementedError("implement check_syntax_result(result, obj)")

    def plain_names(self) -> tuple[str, ...]:
        """Names that look like the syntax but, stored exactly so, must be read as is."""
        return ()

    def test_registered_through_its_entry_point(self, omega_store: OmegaStore) -> None:
        infos = [i for i in omega_store.plugins.info() if i.distribution == self.distribution]
        assert infos, f"{self.distribution} is not registered through an entry point"
        assert "omega_resolve_name" in infos[0].hooks

    def test_syntax_reads_the_object(self, omega_store: OmegaStore) -> None:
        obj = self.make_object()
        omega_store.put(obj, self.stored_name)
        self.check_syntax_result(omega_store.get(self.syntax_name), obj)
        meta = omega_store.metadata(self.syntax_name)
        assert meta is not None and meta.name == self.stored_name

    def test_missing_object_gives_none(self, omega_store: OmegaStore) -> None:
        assert omega_store.get(self.syntax_name) is None
        assert omega_store.metadata(self.syntax_name) is None

    def test_names_stored_exactly_are_read_as_is(self, omega_store: OmegaStore) -> None:
        omega_store.register_backend(PROBE_KIND, ProbeBytesBackend, priority=1000)
        omega_store.put(self.make_object(), self.stored_name)
        for name in (*self.plain_names(), self.syntax_name):
            omega_store.put(name.encode(), name)
            assert omega_store.get(name) == name.encode(), name

    def test_resolving_touches_no_database(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("OMEGA_SERVER_TIMEOUT", "0.2")
        nowhere = OmegaStore(mongo_url="mongodb://127.0.0.1:9/nowhere?retryWrites=false")
        ref = nowhere.plugins.pm.hook.omega_resolve_name(store=nowhere, name=self.syntax_name)
        assert isinstance(ref, NameRef) and ref.name != self.syntax_name

    def test_one_metadata_read_per_get(self, omega_database_url: str) -> None:
        separator = "&" if "?" in omega_database_url else "?"
        url = f"{omega_database_url}{separator}appname=names-{uuid.uuid4().hex[:8]}"
        store = OmegaStore(mongo_url=url)  # a client of its own, created after the listener
        store.put(self.make_object(), self.stored_name)
        _LISTENER.reads.clear()
        _LISTENER.active = True
        try:
            result = store.get(self.syntax_name)
            self.check_syntax_result(result, self.make_object())
        finally:
            _LISTENER.active = False
        assert sum(_LISTENER.reads.values()) == 1, _LISTENER.reads
