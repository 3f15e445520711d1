"""omegacore plugin: object information (summary, stats, dbstats)."""

__version__ = "0.1.0"
