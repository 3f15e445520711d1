"""omegacore-opspec: operations in object names (``store.get("sales#rows:start=0,end=10")``).

Add an op with ``omegacore_opspec.ops.OPS.register``.
"""
