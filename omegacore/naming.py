"""Object names: validation, temporary/hidden rules, patterns and store keys.

Store keys follow omegaml's scheme so that databases written by omegaml 0.18
read unchanged: ``{bucket}.{prefix}.{name}.{ext}`` with ``/`` replaced by
``_`` and, by default, sha1-hashed so that names of any length fit MongoDB's
namespace limit.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re


def validate_name(name: object) -> str:
    """Return ``name`` if it can name a stored object, else raise ValueError saying why."""
    if not isinstance(name, str):
        raise ValueError(
            f"object names must be strings, got {type(name).__name__} {name!r}; "
            "pass the name as str, e.g. store.put(obj, 'sales/2024')"
        )
    if not name:
        raise ValueError("object names must not be empty; pass a name such as 'mydata'")
    if "\x00" in name:
        raise ValueError(f"object names must not contain the NUL character: {name!r}")
    return name


def is_temporary(name: str) -> bool:
    """Temporary objects have a name (or last path segment) starting with ``_``."""
    return name.startswith("_") or name.rsplit("/", 1)[-1].startswith("_")


def is_hidden(name: str) -> bool:
    """Hidden objects have a name (or last path segment) starting with ``.``."""
    return name.startswith(".") or name.rsplit("/", 1)[-1].startswith(".")


def pattern_to_regex(pattern: str) -> str:
    """Translate a unix file pattern (``models/*``) into an anchored regular expression."""
    return fnmatch.translate(pattern).replace(r"(?s:", "^(?s:", 1)


def has_wildcard(name: str) -> bool:
    """True if ``name`` is a pattern (contains ``*``, ``?`` or ``[``) rather than one name."""
    return bool(re.search(r"[*?\[]", name))


def store_key(bucket: str, prefix: str, name: str, ext: str, hashed: bool) -> str:
    """The storage key of ``name``: collection or GridFS file name for its data."""
    if not name.endswith(f".{ext}"):
        name = f"{name}.{ext}"
    key = f"{bucket}.{prefix}.{name}".replace("/", "_").replace("..", ".")
    if hashed:
        return hashlib.sha1(key.encode("utf-8")).hexdigest()
    return key


#: MongoDB's limit on ``<database>.<collection>``, in bytes
MAX_NAMESPACE_BYTES = 255


def collection_safe(key: str, database: str) -> str:
    """``key`` as a valid collection name in ``database``, still unique and readable.

    MongoDB refuses ``$``, empty dot-separated segments and namespaces over 255 bytes.
    ``$`` becomes ``_``, runs of dots one dot; a key still too long keeps its beginning and
    its last segment (the unique suffix) with a hash of the whole between them.
    """
    safe = re.sub(r"\.{2,}", ".", key.replace("$", "_")).strip(".")
    room = MAX_NAMESPACE_BYTES - len(database.encode()) - 1
    if len(safe.encode()) <= room:
        return safe
    head, _, suffix = safe.rpartition(".")
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    keep = room - len(suffix.encode()) - len(digest) - 2
    short = head.encode()[:keep].decode("utf-8", "ignore")
    return f"{short}.{digest}.{suffix}"
