"""omegacore plugin: pandas DataFrames and Series as one MongoDB document per row."""

__version__ = "0.1.0"
