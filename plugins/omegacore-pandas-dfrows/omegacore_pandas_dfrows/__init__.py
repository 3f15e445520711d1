"""omegacore plugin: pandas DataFrames and Series as one MongoDB document per row."""

KIND = "pandas.dfrows"
SERIES_KIND = "pandas.serows"

__version__ = "0.1.0"
