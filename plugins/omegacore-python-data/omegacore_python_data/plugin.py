"""Entry point of omegacore-python-data: declares the kind and the store mixin.

Only import paths are given here, so listing plugins imports neither bson encoders nor numpy.
"""

from __future__ import annotations

from omegacore import FileFormat, KindSpec, MixinSpec, hookimpl

from omegacore_python_data import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    """The ``python.data`` kind: python data as documents, asked last (priority 10)."""
    return [
        KindSpec(
            KIND,
            "omegacore_python_data.backend:PythonDataBackend",
            types=("builtins.dict", "builtins.list", "builtins.tuple", "numpy.ndarray"),
            priority=10,
            selected_by=("as_pydata",),
            description="dict/list/tuple (ndarray with as_pydata=True) as documents",
        )
    ]


@hookimpl
def omega_mixins() -> list[MixinSpec]:
    """Adds put_pyobj_as_document, get_python_data and get_object_as_python."""
    return [
        MixinSpec(
            "omegacore_python_data.mixin:PythonDataMixin",
            description="put_pyobj_as_document, get_python_data, get_object_as_python",
        )
    ]


@hookimpl
def omega_file_formats() -> list[FileFormat]:
    """JSON files hold dicts and lists."""
    return [
        FileFormat((".json",), KIND, reader="omegacore_python_data.files:read_json",
                   writer="omegacore_python_data.files:write_json",
                   types=("builtins.dict", "builtins.list", "builtins.tuple"), text=True,
                   description="a JSON object or array")
    ]
