"""omegacore-ndarray: numpy arrays as raw bytes in GridFS (kind ``ndarray.bin``)."""

KIND = "ndarray.bin"
