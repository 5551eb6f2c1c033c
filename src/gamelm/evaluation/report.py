"""Reports of match results: a bar chart of bb/100 with 95% confidence whiskers.

>>> import tempfile, os
>>> out = {"hands": 100, "agents": {"tag": {"bb_per_100": 12.0, "ci95": [2.0, 22.0]},
...                                 "random": {"bb_per_100": -12.0, "ci95": [-22.0, -2.0]}}}
>>> path = os.path.join(tempfile.mkdtemp(), "bb.png")
>>> plot_win_rates(out, path)
>>> os.path.getsize(path) > 0
True
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any


def plot_win_rates(summary: dict[str, Any], path: str | Path, title: str | None = None) -> None:
    """Write a bar chart of every agent's bb/100 with its 95% CI as whiskers (and the all-in
    adjusted rate as a second bar when the summary has it) to ``path`` (PNG, SVG or PDF by
    extension). The file is written to a temporary name first, then renamed."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    names = list(summary["agents"])
    rows = [summary["agents"][n] for n in names]
    adjusted = all("allin_adjusted" in r for r in rows)
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(names), 4.0))
    series = [("bb/100", rows)]
    if adjusted:
        series.append(("all-in adjusted", [r["allin_adjusted"] for r in rows]))
    width = 0.8 / len(series)
    for j, (label, values) in enumerate(series):
        mean = [v["bb_per_100"] for v in values]
        lo = [v["bb_per_100"] - v["ci95"][0] for v in values]
        hi = [v["ci95"][1] - v["bb_per_100"] for v in values]
        xs = [i + (j - (len(series) - 1) / 2) * width for i in range(len(names))]
        ax.bar(xs, mean, width, yerr=[lo, hi], capsize=4, label=label)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("bb/100 (95% CI)")
    ax.set_title(title or f"{summary['hands']:,} hands")
    if len(series) > 1:
        ax.legend()
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(suffix=path.suffix or ".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
