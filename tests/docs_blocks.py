"""Code blocks of the project's Markdown pages, and what the docs tests do with each.

Every fenced block has a language. ``python`` blocks run (the blocks of one page in one
namespace, in order); ``bash``, ``sh``, ``shell`` and ``console`` blocks run their
``omegacore ...`` commands through the command line and their ``python FILE`` commands
as scripts; ``toml`` and ``json`` blocks must parse; ``text`` blocks are output or
illustrations and never run. A block that cannot run is marked on the line above it::

    <!-- not-run: installs packages; CI runs this command -->

and a block that is a file of an example project is marked with its path, so a test
writes the files out and builds the project::

    <!-- file: omegacore-stdarray/pyproject.toml -->
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the languages whose blocks run, and the ones that only illustrate
RUN = {"python", "bash", "sh", "shell", "console", "toml", "json"}
SHOWN = {"text"}
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)\s*$")
_MARK = re.compile(r"^\s*<!--\s*(?P<what>not-run|file)\s*:\s*(?P<value>.*?)\s*-->\s*$")
_SKIP_DIRS = {".git", ".venv", "node_modules", "build", "dist", "__pycache__"}


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    code: str
    not_run: str | None = None
    file: str | None = None

    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    """Every Markdown page of the repository (new pages are covered without a list)."""
    found = []
    for path in ROOT.rglob("*.md"):
        parts = path.relative_to(ROOT).parts
        if any(p in _SKIP_DIRS or p.startswith(".") or p.endswith(".egg-info")
               for p in parts[:-1]):
            continue
        found.append(path)
    return sorted(found)


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of one page, with the marker above each (if any)."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    previous = ""
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                previous = lines[i]
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        start = i + 1
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][indent:] if lines[i][:indent].isspace() else lines[i])
            i += 1
        mark = _MARK.match(previous)
        block = Block(page, start, match["lang"].lower(), "\n".join(body) + "\n")
        if mark and mark["what"] == "not-run":
            block.not_run = mark["value"]
        elif mark and mark["what"] == "file":
            block.file = mark["value"]
        found.append(block)
        previous = ""
        i += 1
    return found


def commands(block: Block) -> list[str]:
    """The command lines of a shell block (continuations joined, prompts and output dropped)."""
    result: list[str] = []
    pending = ""
    for raw in block.code.splitlines():
        line = raw.rstrip()
        if block.lang == "console":
            if pending:
                pass
            elif line.startswith("$ "):
                line = line[2:]
            else:
                continue  # output shown after a command
        if not line.strip() or (not pending and line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        result.append((pending + line).strip())
        pending = ""
    return result
