"""A griffe extension for the API reference (``mkdocs.yml`` loads it); ``src/`` is not changed.

Two things in gamelm's docstrings read badly as Markdown, so they are rewritten before the
docstring is parsed:

- Doctests (``>>>`` lines and their output; pytest runs them with ``--doctest-modules``) sit in
  the prose rather than in an ``Examples:`` section. Markdown would join them into the
  surrounding paragraph and read ``[50, 51]`` in an output line as a link, so each run of doctest
  lines is fenced as ``pycon``.
- A settings class may group its fields under titles of its own (``PPOConfig``: ``Model:``,
  ``Game and league:``, ``Budget:`` ...), each entry ``name[, name]: what it does``. Such a
  docstring becomes one table per group: setting, default (read from the class), meaning. That
  table is the one place a setting is documented.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Any

import griffe

# Titles the Google style parser already understands; anything else ending in ":" at the left
# margin of a class docstring, followed by indented "name: text" entries, is a settings group.
_GOOGLE = {
    "args", "arguments", "params", "parameters", "keyword args", "keyword arguments",
    "other args", "other arguments", "other params", "other parameters", "raises",
    "exceptions", "returns", "yields", "receives", "examples", "attributes", "functions",
    "methods", "classes", "modules", "warns", "warnings", "note", "notes", "see also",
    "references", "todo", "deprecated", "type parameters", "type aliases",
}  # fmt: skip
_TITLE = re.compile(r"^([A-Z][\w ,/()-]*):\s*$")
_ENTRY = re.compile(r"^    ([A-Za-z_]\w*(?:, [A-Za-z_]\w*)*): (.*)$")


def fence_doctests(text: str) -> str:
    """Wrap every run of ``>>>`` lines (with their continuation and output lines) in a fence.

    An example runs to the first blank line, as doctest reads it.
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if not stripped.startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        block: list[str] = []
        while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
            block.append(lines[i][len(indent) :])
            i += 1
        if out and out[-1].strip():
            out.append("")
        out.append(f"{indent}```pycon")
        out.extend(f"{indent}{b}" for b in block)
        out.append(f"{indent}```")
        if i < len(lines) and lines[i].strip():
            out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def settings_tables(text: str, defaults: dict[str, str]) -> str | None:
    """The grouped settings of a class docstring as Markdown tables, or None if it has none.

    Every entry name must be a field of the class (a key of ``defaults``), otherwise the
    docstring is left alone.
    """
    lines = text.split("\n")
    starts = [
        i
        for i, line in enumerate(lines)
        if (m := _TITLE.match(line)) and m.group(1).lower() not in _GOOGLE
    ]
    if not starts:
        return None
    out = lines[: starts[0]]
    bounds = [*starts, len(lines)]
    for start, end in pairwise(bounds):
        title = _TITLE.match(lines[start]).group(1)  # type: ignore[union-attr]
        entries: list[tuple[list[str], list[str]]] = []
        for line in lines[start + 1 : end]:
            if not line.strip():
                continue
            if m := _ENTRY.match(line):
                entries.append((m.group(1).split(", "), [m.group(2)]))
            elif line.startswith("        ") and entries:
                entries[-1][1].append(line.strip())
            else:
                return None  # not the settings format: leave the docstring as written
        if not entries or any(n not in defaults for names, _ in entries for n in names):
            return None
        out += ["", f"**{title}**", "", "| setting | default | what it does |", "|---|---|---|"]
        for names, desc in entries:
            name_cell = "<br>".join(f"`{n}`" for n in names)
            default_cell = "<br>".join(f"`{_cell(defaults[n])}`" for n in names)
            out.append(f"| {name_cell} | {default_cell} | {_cell(' '.join(desc))} |")
    return "\n".join(out)


class GamelmDocstrings(griffe.Extension):
    """Fence doctests everywhere; turn grouped settings docstrings into tables."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        if cls.docstring is None:
            return
        defaults = {
            name: str(member.value)
            for name, member in cls.members.items()
            if isinstance(member, griffe.Attribute) and member.value is not None
        }
        tables = settings_tables(cls.docstring.value, defaults)
        if tables is not None:
            cls.docstring.value = tables
