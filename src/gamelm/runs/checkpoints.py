"""Training checkpoints: a model directory (loadable on its own by ``from_pretrained`` and as a
``ckpt:PATH`` agent) plus everything a trainer needs to continue exactly where it stopped.

A checkpoint directory ``checkpoint_step_N`` (``N`` is the number of hands played) holds:

* the model files of `gamelm.models.lm.PokerLM.save`;
* ``optimizer.safetensors`` and ``trainer_state.json``: the optimizer's tensors and its
  hyper-parameters, the trainer's counters, its random generators' states and the run config;
* ``league/K``: the past snapshots of the model that the trainer plays against.

It is written into a temporary directory and renamed into place (`gamelm.files.atomic_directory`),
so a run killed mid-write never leaves a checkpoint that `latest` would return half-written. Only
safetensors and JSON are read back: nothing is unpickled.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from gamelm.files import atomic_directory

PREFIX = "checkpoint_step_"
WRITTEN = ("optimizer.safetensors", "rng.safetensors")  # what `save_checkpoint` always writes
_NAME = re.compile(rf"^{PREFIX}(\d+)$")


def optimizer_tensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimizer's state as flat tensors (for safetensors) and JSON-able groups."""
    state = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, float] = {}
    for idx, entry in state["state"].items():
        for key, value in entry.items():
            name = f"{idx}.{key}"
            if torch.is_tensor(value):
                tensors[name] = value.detach().cpu().contiguous()
            else:
                scalars[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def load_optimizer(
    opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict
) -> None:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    for name, value in meta["scalars"].items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(
    path: str | Path,
    model,  # anything with write(directory), e.g. gamelm.models.lm.PokerLM
    optimizer: torch.optim.Optimizer,
    state: dict,
    league: list | None = None,  # snapshots: PokerLM
) -> Path:
    """Write a checkpoint atomically (see the module docstring) and return its path."""
    with atomic_directory(path) as tmp:
        model.write(tmp)
        tensors, meta = optimizer_tensors(optimizer)
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        torch_rng = {"torch_rng": torch.get_rng_state()}
        save_file(torch_rng, str(tmp / "rng.safetensors"))
        (tmp / "trainer_state.json").write_text(json.dumps({**state, "optimizer": meta}, indent=1))
        for k, snap in enumerate(league or []):
            (tmp / "league" / str(k)).mkdir(parents=True)
            snap.write(tmp / "league" / str(k))
    return Path(path)


def load_checkpoint(
    path: str | Path,
    load_model: Callable[[Path], Any],
    optimizer: torch.optim.Optimizer | None = None,
):
    """``(model, state, league)`` of a checkpoint, the model and the league's snapshots read by
    ``load_model`` (a directory -> a model, e.g. ``PokerLM.load``); with ``optimizer``, its
    state is restored and the torch generator is set as it was."""
    root = Path(path)
    if not (root / "trainer_state.json").is_file():
        raise FileNotFoundError(f"{root} is not a training checkpoint (no trainer_state.json)")
    why = damage(root, WRITTEN if optimizer is not None else ())
    if why is not None:
        raise ValueError(f"the checkpoint {root} is damaged: {why}")
    model = load_model(root)
    state = json.loads((root / "trainer_state.json").read_text())
    if optimizer is not None:
        # the model's parameters must be the optimizer's: the caller copies them in first
        try:
            load_optimizer(
                optimizer, load_file(str(root / "optimizer.safetensors")), state["optimizer"]
            )
        except (KeyError, ValueError, RuntimeError, TypeError) as exc:
            raise ValueError(
                f"the optimizer state in {root} does not fit this model ({exc}); "
                "resume with the settings the run was started with"
            ) from None
        torch.set_rng_state(load_file(str(root / "rng.safetensors"))["torch_rng"])
    league_dir = root / "league"
    count = len(list(league_dir.iterdir())) if league_dir.is_dir() else 0
    league = [load_model(league_dir / str(k)) for k in range(count)]
    return model, state, league


def checkpoints(directory: str | Path) -> list[tuple[int, Path]]:
    """The complete checkpoints in ``directory``, oldest first."""
    root = Path(directory)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        m = _NAME.match(child.name)
        if m and (child / "trainer_state.json").is_file():
            found.append((int(m.group(1)), child))
    return sorted(found)


def latest(directory: str | Path) -> Path | None:
    found = checkpoints(directory)
    return found[-1][1] if found else None


def damage(path: str | Path, required: tuple[str, ...] = ()) -> str | None:
    """Why the checkpoint at ``path`` cannot be read back (a JSON file that does not parse, a
    safetensors file cut short, one of ``required`` missing), or None when every file is whole.
    Reads headers only, so it is cheap."""
    root = Path(path)
    if not (root / "trainer_state.json").is_file():
        return "trainer_state.json is missing"
    for name in required:
        if not (root / name).is_file():
            return f"{name} is missing"
    try:
        if not isinstance(json.loads((root / "trainer_state.json").read_text()), dict):
            return "trainer_state.json holds no settings"
    except (ValueError, UnicodeDecodeError, OSError):
        return "trainer_state.json is not valid JSON"
    for file in sorted(root.rglob("*.json")):
        try:
            json.loads(file.read_text())
        except (ValueError, UnicodeDecodeError, OSError):
            return f"{file.relative_to(root)} is not valid JSON"
    files = sorted(root.rglob("*.safetensors"))
    for file in files:
        try:
            with safe_open(str(file), "pt"):
                pass
        except (SafetensorError, OSError) as exc:
            return f"{file.relative_to(root)} is damaged ({str(exc).splitlines()[0]})"
    return None


def latest_intact(
    directory: str | Path, move_aside: bool = True, required: tuple[str, ...] = ()
) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest checkpoint in ``directory`` whose files are whole, and the newer damaged
    ones passed over with the reason, each moved aside to ``NAME.damaged`` (kept, never
    deleted, and no longer found by `checkpoints`) unless ``move_aside`` is False."""
    skipped = []
    for _, path in reversed(checkpoints(directory)):
        why = damage(path, required)
        if why is None:
            return path, skipped
        if not move_aside:
            skipped.append((path, why))
            continue
        aside = path.with_name(path.name + ".damaged")
        k = 2
        while aside.exists():
            aside = path.with_name(f"{path.name}.damaged-{k}")
            k += 1
        path.rename(aside)
        skipped.append((aside, why))
    return None, skipped


def prune(directory: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` checkpoints (``keep`` 0 keeps all); return the
    deleted paths."""
    found = checkpoints(directory)
    if keep <= 0 or len(found) <= keep:
        return []
    gone = [p for _, p in found[:-keep]]
    for p in gone:
        shutil.rmtree(p, ignore_errors=True)
    return gone
