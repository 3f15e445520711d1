"""omegacore plugin: versions of stored objects of every kind (omegaml's model versions)."""

__version__ = "0.1.0"
