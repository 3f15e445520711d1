"""omegacore plugin: data revisions of DataFrames (omegaml's DataRevisionMixin)."""

__version__ = "0.1.0"
