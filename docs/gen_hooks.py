"""Write docs/hooks.md from omegacore/hookspecs.py, so the reference and the code agree.

Run ``python docs/gen_hooks.py`` after changing a hook; ``--check`` exits non-zero when
docs/hooks.md is out of date (the test suite runs it).
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

from omegacore import hookspecs

TARGET = Path(__file__).with_name("hooks.md")

INTRO = """\
# Hook reference

Every hook an omegacore plugin can implement, generated from `omegacore/hookspecs.py`
(`python docs/gen_hooks.py`). Implement a hook with the `omegacore.hookimpl` marker in a
module registered under the entry point group `omegacore.plugins`; see
[the plugin author guide](plugin-guide.md).

Hooks marked *firstresult* stop at the first implementation that returns something other
than `None`; all others call every implementation and collect the results.
"""


def render() -> str:
    """The Markdown hook reference for the hooks defined in ``omegacore.hookspecs``."""
    parts = [INTRO]
    functions = inspect.getmembers(hookspecs, inspect.isfunction)
    for name, func in sorted(functions, key=lambda item: item[1].__code__.co_firstlineno):
        opts = getattr(func, "omegacore_spec", None)
        if not name.startswith("omega_") or opts is None:
            continue
        signature = str(inspect.signature(func)).replace("'", "")
        flags = " *(firstresult)*" if opts.get("firstresult") else ""
        doc = inspect.cleandoc(func.__doc__ or "")
        parts.append(f"## `{name}`{flags}\n\n```python\ndef {name}{signature}: ...\n```\n\n{doc}\n")
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if hooks.md is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("docs/hooks.md is out of date: run python docs/gen_hooks.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
