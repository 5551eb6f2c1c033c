"""Settings (of trainers, solvers, runs) from YAML, ``--set`` or a dict: each value checked
against its field's type, with one clear sentence when it does not fit.

>>> from dataclasses import dataclass
>>> @dataclass
... class Example:
...     rate: float = 0.1
...     modules: tuple[str, ...] = ("q_proj",)
>>> config_from_dict(Example, {"rate": 1, "modules": "q_proj, v_proj"}, "example")
Example(rate=1.0, modules=('q_proj', 'v_proj'))
>>> config_from_dict(Example, {"rate": "fast"}, "example")
Traceback (most recent call last):
ValueError: rate must be a number, got 'fast'
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

_KINDS = {int: "a whole number", float: "a number", str: "a string", bool: "true or false"}


def coerce(name: str, kind: str, value: Any) -> Any:
    """A setting read from YAML or ``--set`` as the type of its field, or one clear error."""
    if value is None and kind.endswith("| None"):
        return None
    base = kind.removesuffix(" | None")
    if base.startswith("tuple[") and value is None:  # an empty YAML value: no items
        return ()
    if base.startswith("tuple["):
        item = float if "float" in base else int if "int" in base else str
        items = [v for v in value.split(",") if v.strip()] if isinstance(value, str) else value
        if isinstance(items, int | float) and not isinstance(items, bool):
            items = [items]  # one item
        if not isinstance(items, (list, tuple)):
            raise ValueError(f"{name} must be a list, got {value!r}")
        return tuple(coerce(name, item.__name__, v.strip() if isinstance(v, str) else v)
                     for v in items)  # fmt: skip
    want = {"int": int, "float": float, "str": str, "bool": bool}.get(base)
    if want is None:
        return value
    ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok and want is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if not ok:
        raise ValueError(f"{name} must be {_KINDS[want]}, got {value!r}")
    return value


def config_from_dict(cls: Any, values: dict[str, Any], what: str) -> Any:
    """``cls(**values)``, refusing unknown settings by name and values of the wrong type."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(
            f"unknown {what} settings: {', '.join(unknown)}; known: {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    kinds = {name: _kind(hints.get(name, Any)) for name in fields}
    return cls(**{k: coerce(k, kinds[k], v) for k, v in values.items()})


def _kind(hint: Any) -> str:
    """A type hint as the text `coerce` reads (``float``, ``int | None``, ``tuple[str, ...]``)."""
    text = hint.__name__ if isinstance(hint, type) else str(hint)
    return text.replace("typing.", "").replace("NoneType", "None").replace("Optional[", "")


def check_finite(cfg: Any) -> None:
    """ValueError naming the first float setting of the dataclass ``cfg`` that is NaN or
    infinite (a NaN passes every ``<`` check, so it must be refused on its own)."""
    import math

    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{f.name} must be a finite number, got {value}")
