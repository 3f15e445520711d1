"""omegacore-projection: column projection in object names (``store.get("sales[a:c]")``)."""
