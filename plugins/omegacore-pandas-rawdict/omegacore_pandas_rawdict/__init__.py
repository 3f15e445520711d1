"""omegacore-pandas-rawdict: raw documents read as DataFrames (kind ``pandas.rawdict``)."""

KIND = "pandas.rawdict"
