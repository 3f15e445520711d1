"""Entry point of omegacore-ndarray: declares the kind and the store mixin.

Only import paths are given here, so listing plugins does not import numpy.
"""

from __future__ import annotations

from omegacore import FileFormat, KindSpec, MixinSpec, hookimpl

from omegacore_ndarray import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    """The ``ndarray.bin`` kind: numpy arrays as raw bytes in GridFS."""
    return [
        KindSpec(
            KIND,
            "omegacore_ndarray.backend:NumpyArrayBackend",
            types=("numpy.ndarray",),
            priority=50,
            description="numpy array as raw bytes in GridFS (dtype, shape in kind_meta)",
        )
    ]


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    """Adds put_ndarray_as_hdf."""
    return [
        MixinSpec(
            "omegacore_ndarray.mixin:NDArrayMixin",
            description="put_ndarray_as_hdf(obj, name, attributes=None)",
        )
    ]


@hookimpl
def omega_file_formats() -> list[FileFormat]:
    """``.npy`` files hold arrays (numpy's own format: dtype and shape kept)."""
    return [
        FileFormat((".npy",), KIND, reader="omegacore_ndarray.files:read_npy",
                   writer="omegacore_ndarray.files:write_npy", types=("numpy.ndarray",),
                   description="numpy array (np.save)")
    ]
