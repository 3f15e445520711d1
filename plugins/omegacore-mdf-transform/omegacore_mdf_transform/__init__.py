"""omegacore plugin: lazy frames processed chunk by chunk in worker processes."""

__version__ = "0.1.0"
