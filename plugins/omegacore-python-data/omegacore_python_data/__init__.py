"""omegacore-python-data: dicts, lists and tuples stored as documents (kind ``python.data``)."""

KIND = "python.data"
