"""omegacore-python-model: any model through a serializer/loader pair (kind ``python.model``)."""

KIND = "python.model"
