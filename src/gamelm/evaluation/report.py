"""Reports: a bar chart of bb/100 with 95% confidence whiskers, and a training run's curves.

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
from pathlib import Path
from typing import Any

from gamelm.files import atomic_file


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
    save_figure(fig, path)


def save_figure(fig: Any, path: Path) -> None:
    """Write a figure to a temporary name beside ``path``, then rename it into place."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        with atomic_file(path, path.suffix or ".png") as tmp:
            fig.savefig(tmp)
            os.chmod(tmp, 0o644)
    finally:
        plt.close(fig)


HISTORY_PANELS = (
    ("evaluation bb/100 (95% CI)", ("eval/bb_per_100",)),
    ("training result bb/100", ("charts/train_bb_per_100",)),
    ("losses", ("losses/policy", "losses/value")),
    ("entropy", ("losses/entropy",)),
    ("hands/s", ("charts/hands_per_s",)),
)


def plot_history(
    metrics: dict[str, list[tuple[int, float]]], path: str | Path, title: str = ""
) -> None:
    """Write the curves of a training run (``key -> [(hands, value)]``, as the run registry
    gives them) to ``path``: evaluation bb/100 with its CI band, training result, losses,
    entropy and throughput against hands played.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "h.png")
    >>> plot_history({"losses/policy": [(1, 0.5), (2, 0.4)]}, path)
    >>> os.path.getsize(path) > 0
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    panels = [(t, [k for k in keys if k in metrics]) for t, keys in HISTORY_PANELS]
    panels = [(t, keys) for t, keys in panels if keys]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.2 * len(panels)), squeeze=False)
    for ax, (label, keys) in zip(axes[:, 0], panels):
        for key in keys:
            xs, ys = zip(*metrics[key])
            ax.plot(xs, ys, label=key.split("/", 1)[1], marker="o" if len(xs) < 30 else None)
            if key == "eval/bb_per_100" and "eval/bb_per_100_ci95" in metrics:
                half = dict(metrics["eval/bb_per_100_ci95"])
                lo = [y - half.get(x, 0.0) for x, y in zip(xs, ys)]
                hi = [y + half.get(x, 0.0) for x, y in zip(xs, ys)]
                ax.fill_between(xs, lo, hi, alpha=0.25)
                ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel(label, fontsize=8)
        if len(keys) > 1:
            ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel("hands played")
    if title:
        axes[0, 0].set_title(title)
    save_figure(fig, path)


def plot_rl(records: list[dict[str, Any]], path: str | Path, title: str = "") -> None:
    """Write the per-epoch curves of `gamelm rl` (its records, as in ``metrics.jsonl``) to
    ``path``: bb/100 with its 95% CI band, win rate, the losses, KL and entropy, and the reward
    terms per hand.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "rl.png")
    >>> rec = {"epoch": 1, "bb_per_100": 5.0, "ci95": [-1.0, 11.0], "win_rate": 0.5,
    ...        "policy_loss": 0.1, "value_loss": 2.0, "kl": 0.01, "entropy": 1.2, "chips": 0.05}
    >>> plot_rl([rec, {**rec, "epoch": 2, "bb_per_100": 9.0}], path)
    >>> os.path.getsize(path) > 0
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    if not records:
        raise ValueError("no epochs to plot")
    xs = [r["epoch"] for r in records]
    terms = [k for k in records[0] if k == "chips" or k.startswith(("shaping_", "reward_model"))]
    fig, axes = plt.subplots(4, 1, figsize=(7, 9), squeeze=False)
    ax = axes[0, 0]
    ys = [r["bb_per_100"] for r in records]
    ax.plot(xs, ys, marker="o")
    ax.fill_between(
        xs, [r["ci95"][0] for r in records], [r["ci95"][1] for r in records], alpha=0.25
    )
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("bb/100 (95% CI)", fontsize=8)
    axes[1, 0].plot(xs, [r["win_rate"] for r in records], marker="o")
    axes[1, 0].set_ylabel("win rate", fontsize=8)
    for key in ("policy_loss", "value_loss", "kl", "entropy"):
        if key in records[0]:
            axes[2, 0].plot(xs, [r[key] for r in records], marker="o", label=key)
    axes[2, 0].set_yscale("symlog", linthresh=1e-3)
    axes[2, 0].legend(fontsize=7)
    axes[2, 0].set_ylabel("losses, KL, entropy", fontsize=8)
    for key in terms:
        axes[3, 0].plot(xs, [r.get(key, 0.0) for r in records], marker="o", label=key)
    axes[3, 0].legend(fontsize=7)
    axes[3, 0].set_ylabel("reward terms (bb/hand)", fontsize=8)
    axes[3, 0].set_xlabel("epoch")
    if title:
        axes[0, 0].set_title(title)
    save_figure(fig, path)
