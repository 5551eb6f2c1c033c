"""What every layer shares about errors: one sentence for the user."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
