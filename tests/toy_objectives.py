"""Objectives with a known optimum for the tuner's tests (module level, so worker processes
can import them)."""

from __future__ import annotations

import math


def quadratic(settings, out, report, config) -> float:
    """Best at learning_rate = 10**-2.5 (value 0); reports three steps that approach it."""
    x = math.log10(settings["learning_rate"])
    for step in range(3):
        report(-((x + 2.5) ** 2) - 0.1 * (2 - step), step)
    return -((x + 2.5) ** 2)


class Interrupt:
    """`quadratic`, interrupted (as by Ctrl-C) at trial number ``at``."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.calls = 0

    def __call__(self, settings, out, report, config) -> float:
        if report.trial.number == self.at:
            raise KeyboardInterrupt
        self.calls += 1
        return quadratic(settings, out, report, config)
