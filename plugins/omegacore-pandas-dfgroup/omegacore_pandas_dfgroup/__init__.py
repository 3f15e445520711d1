"""omegacore plugin: DataFrames as one MongoDB document per group of rows (pandas.dfgroup)."""

KIND = "pandas.dfgroup"

__version__ = "0.1.0"
