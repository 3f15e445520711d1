"""omegacore-pandas-hdf: DataFrames and Series as HDF5 files in GridFS (kind ``pandas.hdf``)."""

KIND = "pandas.hdf"
