"""omegacore plugin: ``mdf.apply(fn)``, pandas-like expressions run on the server."""

__version__ = "0.1.0"
