"""Conformance kit for omegacore plugins.

Installing this distribution adds pytest fixtures (``omega_mongo_url``, ``omega_store``,
``omega_store_factory``) that run against a real MongoDB-wire server, and base test classes
that a kind plugin subclasses to prove it keeps the store's promises.
``MixinConformance`` does the same for store mixins: composition in any order, keywords
forwarded, ``super()`` called; ``NameSyntaxConformance`` for plugins that give names a
syntax. ``CrashConformance`` and ``AppendConformance`` are opt-in suites for kinds: puts
killed with SIGKILL, and appends from several processes at once; ``ColumnsConformance``
for kinds whose objects have columns; ``LazyMixinConformance`` for lazy-frame mixins.
"""

from omegacore_testing.columns import ColumnsConformance
from omegacore_testing.conformance import KindConformance, data_footprint
from omegacore_testing.crash import AppendConformance, CrashConformance
from omegacore_testing.lazy import LazyMixinConformance
from omegacore_testing.mixins import MixinConformance
from omegacore_testing.names import NameSyntaxConformance

__all__ = ["KindConformance", "data_footprint"]
__all__ += ["AppendConformance", "ColumnsConformance", "CrashConformance",
            "LazyMixinConformance", "MixinConformance",
            "NameSyntaxConformance"]
