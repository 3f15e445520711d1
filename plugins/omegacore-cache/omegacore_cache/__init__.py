"""omegacore plugin: a bounded in-process cache of unchanged objects."""

__version__ = "0.1.0"
