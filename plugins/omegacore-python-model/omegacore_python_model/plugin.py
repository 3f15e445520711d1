"""Entry point of omegacore-python-model: declares the kind.

The kind is chosen when ``put`` is given ``serializer=`` or ``loader=`` (or
``kind="python.model"``), for any object; its backend imports joblib only to use it.
"""

from __future__ import annotations

from omegacore import KindSpec, hookimpl

from omegacore_python_model import KIND


@hookimpl
def omega_kinds() -> list[KindSpec]:
    """The ``python.model`` kind, asked before the type-specific kinds (priority 55)."""
    return [
        KindSpec(
            KIND,
            "omegacore_python_model.backend:PythonModelBackend",
            types=(),  # any object: the choice depends on serializer=/loader= only
            priority=55,
            selected_by=("serializer", "loader"),
            description="any object through serializer=/loader= (joblib by default), GridFS",
        )
    ]
