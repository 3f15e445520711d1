"""Conformance kit for omegacore plugins.

Installing this distribution adds pytest fixtures (``omega_mongo_url``, ``store``,
``store_factory``) that run against a real MongoDB-wire server, and base test classes
that a kind plugin subclasses to prove it keeps the store's promises.
"""

from omegacore_testing.conformance import KindConformance, data_footprint

__all__ = ["KindConformance", "data_footprint"]
