"""Archives of stored objects: ``store.to_archive(name, path)`` and ``from_archive``."""
