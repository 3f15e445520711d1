"""omegacore-python-file: files and file-like objects in GridFS (kind ``python.file``)."""

KIND = "python.file"
