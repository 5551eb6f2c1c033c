"""Checks a model directory or file passes before gamelm builds the model it describes: the
weights are safetensors (nothing is unpickled), the config does not describe a model far larger
than the weights on disk (which would allocate gigabytes from a tiny file), and no weight is NaN
or infinite. Each failure is one sentence (ValueError)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from torch import nn

# the config may describe at most this many times the bytes the weight files hold (dtype
# changes, tied embeddings and rounding stay far below it)
SIZE_SLACK = 4.0


def weight_files(root: Path) -> list[Path]:
    """The safetensors files of a local model directory; ValueError when it has only pickled
    weights (``pytorch_model.bin``), which gamelm never loads."""
    files = sorted(root.glob("*.safetensors"))
    files = [f for f in files if f.name not in ("value_head.safetensors", "optimizer.safetensors",
                                                  "rng.safetensors")]  # fmt: skip
    if not files:
        pickled = sorted(p.name for p in root.glob("*.bin")) + sorted(
            p.name for p in root.glob("*.pt")
        )
        if pickled:
            raise ValueError(
                f"{root} holds pickled weights ({pickled[0]}), which gamelm does not load (a "
                "pickle can run code); convert them to safetensors"
            )
        raise ValueError(f"{root} holds no model weights (no .safetensors file)")
    return files


_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")


def layer_count(keys) -> int:
    """How many distinct ``layers.N.`` blocks tensor names hold (0 when they name none)."""
    return len({m.group(1) for k in keys if (m := _LAYER.search(k))})


def check_layers(config, keys, where: str | Path) -> None:
    """ValueError when the config claims another number of layers than the weights hold
    (checked before the model is built: a config claiming 100,000 layers over a small file
    must not build 100,000 layers first)."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    claimed = getattr(text, "num_hidden_layers", None)
    found = layer_count(keys)
    if isinstance(claimed, int) and found and claimed != found:
        raise ValueError(
            f"{where} does not match its own config (the config has {claimed} layers, the "
            f"weights {found})"
        )


def stored_keys(files: list[Path]) -> list[str]:
    keys: list[str] = []
    for file in files:
        try:
            with safe_open(str(file), "pt") as f:
                keys += list(f.keys())
        except (SafetensorError, OSError) as exc:
            raise ValueError(f"{file} is damaged ({str(exc).splitlines()[0]})") from None
    return keys


def stored_bytes(files: list[Path]) -> int:
    """Bytes of the tensors in ``files``, read from their headers (the data is not read)."""
    total = 0
    for file in files:
        try:
            with safe_open(str(file), "pt") as f:
                for key in f.keys():
                    piece = f.get_slice(key)
                    numel = 1
                    for n in piece.get_shape():
                        numel *= int(n)
                    total += numel * _itemsize(piece.get_dtype())
        except (SafetensorError, OSError) as exc:
            raise ValueError(f"{file} is damaged ({str(exc).splitlines()[0]})") from None
    return total


def _itemsize(dtype: str) -> int:
    return {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2,
            "I16": 2, "U16": 2}.get(dtype.upper(), 1)  # fmt: skip


def described_bytes(config) -> int:  # config: transformers.PretrainedConfig
    """Bytes of float32 parameters the causal LM of ``config`` has, counted on the meta device
    (nothing is allocated)."""
    from transformers import AutoModelForCausalLM

    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except Exception as exc:  # any failure to build the config's model is the config's fault
        raise ValueError(f"transformers cannot build its config ({exc})") from None
    return sum(p.numel() for p in model.parameters()) * 4


def check_directory(root: Path) -> None:
    """A local transformers model directory that is safe to load: a readable config.json whose
    model is not far larger than its safetensors weights."""
    from transformers import AutoConfig

    files = weight_files(root)
    try:
        json.loads((root / "config.json").read_text())
        config = AutoConfig.from_pretrained(root)
    except Exception as exc:  # transformers' config classes raise many kinds on bad values
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{root / 'config.json'} is not a valid model config ({text})") from None
    check_layers(config, stored_keys(files), root)
    have, want = stored_bytes(files), described_bytes(config)
    if want > SIZE_SLACK * have + 2**20:
        raise ValueError(
            f"{root / 'config.json'} describes a model of {want / 1e6:,.0f} MB but its weights "
            f"hold {have / 1e6:,.1f} MB; the config or the weights are wrong"
        )


def check_finite(module: nn.Module, where: str | Path) -> None:
    """ValueError when a parameter of ``module`` is NaN or infinite."""
    for name, param in module.named_parameters():
        if not torch.isfinite(param).all():
            raise ValueError(f"{where} holds NaN or infinite weights ({name}); it cannot play")
