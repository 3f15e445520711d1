"""Base tests every store mixin plugin subclasses to prove it composes with the others.

A mixin is composed into the store class next to every other installed mixin, in an
order the user does not choose. ``MixinConformance`` checks, against a real server, that
the mixin under test

- is registered through an entry point, and its module imports no heavy library;
- works in every order relative to the installed mixins that wrap store methods;
- keeps ``put``/``get``/``getl`` working for plain names;
- forwards every keyword it does not use (``store.get(name, some_unknown_kw=1)`` reaches
  the next class and the backend with ``some_unknown_kw=1``);
- calls ``super()`` in every store method it overrides;
- does not define a new method that another installed mixin defines too.

The kit stores bytes through a small kind registered at run time, so it needs no pandas::

    from omegacore_testing import MixinConformance

    class TestMyMixin(MixinConformance):
        mixin = MyMixin
        distribution = "omegacore-mine"
"""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import pytest

from omegacore import BaseBackend, MixinSpec, OmegaStore, PluginRegistry
from omegacore.documents import MetadataBase
from omegacore.specs import KindSpec

#: the kind the kit stores its objects as
PROBE_KIND = "omegacore.testing.bytes"
#: a keyword no mixin or backend knows; it must reach the backend unchanged
UNKNOWN_KW = "some_unknown_kw"


def _unknown(value: int) -> dict[str, Any]:
    """``{UNKNOWN_KW: value}``, to pass as ``**kwargs``."""
    return {UNKNOWN_KW: value}
#: plain names that must round-trip with any mixin composed in
PLAIN_NAMES = ("plain", "with space", "ünïcödé/名字", "deep/path/to/object", "dots.in.name")


class ProbeBytesBackend(BaseBackend):
    """Stores ``bytes`` in one GridFS file; records the keywords each call receives."""

    KIND = PROBE_KIND

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: (method, name, keyword arguments) of every put and get, in call order
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    @classmethod
    def supports(cls, obj: Any, name: str, **kwargs: Any) -> bool:
        return isinstance(obj, bytes)

    def put(
        self,
        obj: Any,
        name: str,
        attributes: dict[str, Any] | None = None,
        replace: bool = False,
        **kwargs: Any,
    ) -> MetadataBase:
        if not isinstance(obj, bytes):
            raise TypeError(f"{self.KIND} stores bytes, not {type(obj).__name__}")
        self.calls.append(("put", name, dict(kwargs)))
        with self.stage(name, attributes) as staged:
            staged.put_file(obj)
        return staged.meta

    def get(
        self, name: str, version: int = -1, meta: MetadataBase | None = None, **kwargs: Any
    ) -> Any:
        self.calls.append(("get", name, dict(kwargs)))
        with self.open_file(self.metadata(name, meta)) as stream:
            return stream.read()


def _default_calls() -> dict[str, Callable[[OmegaStore, str], Any]]:
    """How the kit calls each store method a mixin may override, for a stored ``name``."""
    return {
        "get": lambda store, name: store.get(name),
        "getl": lambda store, name: store.getl(name),
        "put": lambda store, name: store.put(b"again", name),
        "metadata": lambda store, name: store.metadata(name),
        "exists": lambda store, name: store.exists(name),
        "list": lambda store, name: store.list(),
        "collection": lambda store, name: store.collection(name),
        "get_backend": lambda store, name: store.get_backend(name),
        "get_backend_bykind": lambda store, name: store.get_backend_bykind(PROBE_KIND),
        "get_backend_byobj": lambda store, name: store.get_backend_byobj(b"x", name),
        "make_metadata": lambda store, name: store.make_metadata(name, PROBE_KIND),
        "object_store_key": lambda store, name: store.object_store_key(name, "bin"),
        "help": lambda store, name: store.help(name),
        "drop": lambda store, name: store.drop(name),
        "revisions": lambda store, name: store.revisions(name),
    }


def store_methods() -> set[str]:
    """Names of the public methods of ``OmegaStore`` (what a wrapping mixin overrides)."""
    return {
        n for n in dir(OmegaStore)
        if not n.startswith("_") and callable(getattr(OmegaStore, n, None))
    }


def overridden(mixin: type) -> list[str]:
    """The ``OmegaStore`` methods that ``mixin`` (or its bases) defines itself."""
    names = store_methods()
    own: set[str] = set()
    for cls in mixin.__mro__:
        if cls is object:
            continue
        own.update(n for n, v in vars(cls).items() if n in names and callable(v))
    return sorted(own)


class RecordingProbe:
    """Base of the probes ``make_probe`` builds: ``calls`` holds (method, args, kwargs)."""

    calls: ClassVar[list[tuple[str, tuple[Any, ...], dict[str, Any]]]] = []


def make_probe(methods: Sequence[str]) -> type[RecordingProbe]:
    """A mixin that records each call of ``methods`` (name, args, kwargs), then calls super().

    Composed innermost (just in front of ``OmegaStore``), it sees what the mixins above it
    hand on. Records are kept on the class, in ``calls``.
    """

    def recorder(method: str) -> Callable[..., Any]:
        def record(self: Any, *args: Any, **kwargs: Any) -> Any:
            probe.calls.append((method, args, dict(kwargs)))
            return getattr(super(probe, self), method)(*args, **kwargs)

        record.__name__ = method
        return record

    namespace: dict[str, Any] = {m: recorder(m) for m in methods}
    namespace["calls"] = []
    probe: type[RecordingProbe] = type("RecordingProbe", (RecordingProbe,), namespace)
    return probe


#: a store with mixins composed in, and the probe behind them
Composed = tuple[OmegaStore, type[RecordingProbe]]


def _name(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The object name a recorded call was given (first positional or ``name=``)."""
    return args[0] if args else kwargs.get("name")


class MixinConformance:
    """The contract of a store mixin, checked against a real server.

    Set ``mixin`` (the class under test) and ``distribution`` (the distribution whose
    entry point registers it). If the mixin overrides a store method the kit does not
    know how to call, return a call for it from ``extra_calls``.
    """

    #: the mixin class under test
    mixin: ClassVar[type | None] = None
    #: the distribution whose ``omegacore.plugins`` entry point registers the mixin
    distribution: ClassVar[str] = ""
    #: at most this many orders are tried (all of them when there are fewer)
    max_orders: ClassVar[int] = 120
    #: libraries importing the mixin's module must not import (a store imports every mixin)
    heavy_modules: ClassVar[tuple[str, ...]] = (
        "pandas", "numpy", "sklearn", "tables", "joblib", "polars", "pyarrow",
    )

    def extra_calls(self) -> dict[str, Callable[[OmegaStore, str], Any]]:
        """``{method: call(store, name)}`` for overridden methods the kit cannot call itself.

        ``name`` is a plain name stored as bytes; the call must pass it on (or use it) so
        that the probe behind the mixin sees the method called.
        """
        return {}

    def plain_names(self) -> Sequence[str]:
        """Names that must pass through the mixin untouched (extend for your syntax)."""
        return PLAIN_NAMES

    # -- composition helpers ------------------------------------------------------------------
    def _mixin(self) -> type:
        assert self.mixin is not None, "set the class attribute mixin to the class under test"
        return self.mixin

    def installed_mixins(self) -> list[type]:
        """The classes of every mixin installed through entry points, the one under test too."""
        classes = [spec.load() for spec in PluginRegistry().mixins()]
        if self._mixin() not in classes:
            classes.append(self._mixin())
        return classes

    def orders(self) -> Iterator[list[type]]:
        """The orders (outermost first) in which the installed mixins are composed.

        Every order of the mixins that wrap store methods (the one under test always among
        them), with the mixins that only add methods placed outside, then inside of them.
        Above ``max_orders`` a fixed sample is taken that still puts the mixin under test
        first and last.
        """
        classes = self.installed_mixins()
        wrapping = [c for c in classes if overridden(c) or c is self._mixin()]
        adding = [c for c in classes if c not in wrapping]
        count = 1
        for n in range(2, len(wrapping) + 1):
            count *= n
        if count * 2 <= self.max_orders:
            perms: list[tuple[type, ...]] = list(itertools.permutations(wrapping))
        else:
            rng = random.Random(0)
            others = [c for c in wrapping if c is not self._mixin()]
            perms = [(self._mixin(), *others), (*others, self._mixin())]
            while len(perms) < self.max_orders // 2:
                perms.append(tuple(rng.sample(wrapping, len(wrapping))))
        for perm in perms:
            yield [*adding, *perm]
            if adding:
                yield [*perm, *adding]

    def compose(
        self, omega_store_factory: Callable[..., OmegaStore], order: Sequence[type]
    ) -> Composed:
        """A store with the probe kind and ``order`` composed (outermost first), then a probe.

        Uses a ``PluginRegistry`` without entry points, so only these mixins are in the class.
        """
        methods = sorted({"get", "getl", "put"}.union(*(overridden(c) for c in order)))
        probe = make_probe(methods)
        registry = PluginRegistry(load_entry_points=False)
        specs = [MixinSpec(cls, order=10 * (i + 1)) for i, cls in enumerate(order)]
        specs.append(MixinSpec(probe, order=10 * (len(order) + 1)))
        registry.register_runtime(
            kinds=[KindSpec(PROBE_KIND, ProbeBytesBackend, priority=1000)], mixins=specs
        )
        store = omega_store_factory(plugins=registry)
        mro = type(store).__mro__
        positions = [mro.index(c) for c in (*order, probe, OmegaStore)]
        assert positions == sorted(positions), f"unexpected composition {mro}"
        return store, probe

    @pytest.fixture
    def composed(self, omega_store_factory: Callable[..., OmegaStore]) -> Composed:
        """The mixin under test alone in front of the probe and the store."""
        return self.compose(omega_store_factory, [self._mixin()])

    # -- the contract ---------------------------------------------------------------------------
    def test_mixin_is_installed(self) -> None:
        assert self.distribution, "set the class attribute distribution"
        specs = [s for s in PluginRegistry().mixins() if s.load() is self._mixin()]
        assert specs, f"{self._mixin().__qualname__} is not registered through an entry point"
        assert specs[0].distribution == self.distribution

    def test_imports_nothing_heavy(self) -> None:
        module = self._mixin().__module__
        code = (
            "import importlib, sys\n"
            f"importlib.import_module({module!r})\n"
            f"print(sorted(m for m in {self.heavy_modules!r} if m in sys.modules))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, f"cannot import {module}: {out.stderr.strip()}"
        assert out.stdout.strip() == "[]", (
            f"importing {module} imports {out.stdout.strip()}: every store imports its mixins, "
            "so import heavy libraries inside the methods that need them"
        )

    def test_composes_in_any_order(self, omega_store_factory: Callable[..., OmegaStore]) -> None:
        tried = 0
        for order in self.orders():
            store, probe = self.compose(omega_store_factory, order)
            label = " > ".join(c.__qualname__ for c in order)
            store.put(b"plain", "plain", **_unknown(1))
            assert store.get("plain") == b"plain", f"get broke in order {label}"
            assert store.get("plain", **_unknown(2)) == b"plain", f"in order {label}"
            assert store.get("not/stored") is None, f"get of a missing name in order {label}"
            seen = [_name(args, kwargs) for m, args, kwargs in probe.calls if m == "get"]
            assert "plain" in seen, f"get did not reach the store in order {label}"
            received = store.get_backend_bykind(PROBE_KIND).calls  # type: ignore[attr-defined]
            forwarded = {(m, kw.get(UNKNOWN_KW)) for m, _, kw in received}
            assert {("put", 1), ("get", 2)} <= forwarded, (
                f"an unknown keyword did not reach the backend in order {label}"
            )
            store.drop("plain")
            tried += 1
        assert tried >= 1

    def test_plain_names_round_trip(self, composed: Composed) -> None:
        store, _ = composed
        for i, name in enumerate(self.plain_names()):
            value = f"value {i}".encode()
            meta = store.put(value, name)
            assert meta.kind == PROBE_KIND and meta.name == name
            assert store.get(name) == value
            assert store.exists(name)
        assert sorted(store.list(include_temp=True, hidden=True)) == sorted(self.plain_names())
        assert store.put(b"new", "plain").name == "plain"
        assert store.get("plain") == b"new"

    def test_forwards_unknown_keywords(self, composed: Composed) -> None:
        store, probe = composed
        store.put(b"kw", "kw", **_unknown(1))
        assert store.get("kw", **_unknown(2)) == b"kw"
        store.getl("kw", **_unknown(3))
        backend = store.get_backend_bykind(PROBE_KIND)
        assert isinstance(backend, ProbeBytesBackend)
        received = [(m, kw.get(UNKNOWN_KW)) for m, _, kw in backend.calls]
        assert ("put", 1) in received, "put did not forward an unknown keyword"
        assert ("get", 2) in received, "get did not forward an unknown keyword"
        assert ("get", 3) in received, "getl did not forward an unknown keyword"
        lazy = [kw for m, _, kw in backend.calls if kw.get(UNKNOWN_KW) == 3]
        assert lazy[0].get("lazy") is True, "getl must reach the backend with lazy=True"
        probed = {(m, kw.get(UNKNOWN_KW)) for m, _, kw in probe.calls}
        assert {("put", 1), ("get", 2), ("getl", 3)} <= probed

    def test_overrides_call_super(self, composed: Composed) -> None:
        store, probe = composed
        calls = {**_default_calls(), **self.extra_calls()}
        methods = overridden(self._mixin())
        unknown = [m for m in methods if m not in calls]
        assert not unknown, (
            f"the kit does not know how to call {unknown}: return a call for each from "
            "extra_calls()"
        )
        for method in methods:
            store.put(b"x", "super")
            probe.calls.clear()
            calls[method](store, "super")
            assert any(m == method for m, _, _ in probe.calls), (
                f"{self._mixin().__qualname__}.{method} did not call super().{method}()"
            )

    def test_adds_no_clashing_method(self) -> None:
        own = {
            n for n, v in vars(self._mixin()).items()
            if callable(v) and not n.startswith("_") and n not in store_methods()
        }
        for other in self.installed_mixins():
            if other is self._mixin():
                continue
            clash = own & {n for n, v in vars(other).items() if callable(v)}
            assert not clash, (
                f"{self._mixin().__qualname__} and {other.__qualname__} both define {clash}; "
                "one would hide the other depending on the order"
            )
