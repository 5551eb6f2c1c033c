"""Exporting the small poker LM: one self-contained safetensors file, and ONNX.

**safetensors** (`export_model`): the weights of the transformers Llama and the value head in
one file, with everything needed to rebuild it in the file's metadata: the transformers config
(``config``), gamelm's own settings (``gamelm``: preset, raise sizes, strength trials) and a
format tag. The tokenizer is not stored: the poker vocabulary is fixed by gamelm's code
(`gamelm.models.lm.build_tokenizer`). `load_exported` rebuilds the model from the file alone,
without unpickling anything; `gamelm.load_agent` turns it into a playing agent.

**ONNX** (`export_onnx`): the policy and value forward, ``(tokens, mask, choices, legal) ->
(log_probs, value)`` with the batch and sequence length dynamic, for runtimes without PyTorch.
The inputs are what `gamelm.agents.lm.model_inputs` makes from observations; tests check the
ONNX Runtime outputs against PyTorch's.

>>> import tempfile, os
>>> from gamelm.models.lm import PokerLM
>>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
>>> info = export_model(PokerLM.from_preset("tiny", seed=0), path)
>>> load_exported(path).fractions
(0.5, 1.0)
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from gamelm.files import atomic_file
from gamelm.models.checks import check_layers
from gamelm.models.lm import KIND, PokerLM
from gamelm.models.vocab import MAX_RAISES

FORMAT = "gamelm-poker-lm/1"


def export_model(model: PokerLM, out: str | Path) -> dict:
    """Write ``model`` to the single file ``out`` (atomically); returns its metadata."""
    from safetensors.torch import save_file

    from gamelm.models.causal_lm import plain_model

    if not isinstance(model, PokerLM):
        raise ValueError(
            "only the small poker LM exports to one file; a fine-tuned LLM is already a "
            "transformers directory (gamelm merge-lora makes it self-contained)"
        )
    lm = plain_model(model.lm)
    state = {f"lm.{k}": v for k, v in lm.state_dict().items()}
    if lm.config.tie_word_embeddings:  # one tensor, two names: store it once
        state.pop("lm.lm_head.weight", None)
    state |= {f"value_head.{k}": v for k, v in model.value_head.state_dict().items()}
    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    meta = {
        "format": FORMAT,
        "config": lm.config.to_json_string(use_diff=False),
        "gamelm": json.dumps(
            {
                "kind": KIND,
                "preset": model.preset,
                "fractions": list(model.fractions),
                "strength_trials": model.strength_trials,
            }
        ),
    }
    path = Path(out)
    with atomic_file(path, ".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return meta


def is_exported(path: str | Path) -> bool:
    """True if ``path`` is a file written by `export_model`."""
    from safetensors import safe_open

    p = Path(path)
    if not p.is_file():
        return False
    try:
        with safe_open(str(p), "pt") as f:
            return (f.metadata() or {}).get("format") == FORMAT
    except Exception:  # not a safetensors file at all
        return False


def load_exported(path: str | Path, device: str | torch.device = "cpu") -> PokerLM:
    """The `PokerLM` in a file written by `export_model`."""
    from safetensors import SafetensorError, safe_open
    from transformers import LlamaConfig, LlamaForCausalLM

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no exported model at {p}")
    try:
        with safe_open(str(p), "pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{p} is not a safetensors file: {exc}") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{p} is not a gamelm export (made by gamelm export)")
    try:
        settings = json.loads(meta["gamelm"])
        config = LlamaConfig.from_dict(json.loads(meta["config"]))
        preset, fractions, trials = _settings(settings)
    except Exception as exc:  # transformers' config classes raise many kinds on bad values
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(f"{p} has damaged metadata" + (f": {text}" if text else "")) from None
    weights = {k[3:]: v for k, v in tensors.items() if k.startswith("lm.")}
    head = {k[11:]: v for k, v in tensors.items() if k.startswith("value_head.")}
    check_layers(config, list(weights), p)
    try:  # the shapes the config implies, on the meta device: nothing is allocated yet
        with torch.device("meta"):
            expected = LlamaForCausalLM(config).state_dict()
    except Exception as exc:  # a config transformers cannot build: its values are wrong
        raise ValueError(f"{p} has a config transformers cannot build ({exc})") from None
    if config.tie_word_embeddings:
        expected.pop("lm_head.weight", None)
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = [
        k for k in expected if k in weights and tuple(weights[k].shape) != tuple(expected[k].shape)
    ]
    if missing or unexpected or wrong:
        detail = (f"missing {missing[:2]}" if missing else f"unexpected {unexpected[:2]}"
                  if unexpected else f"{wrong[0]} is {tuple(weights[wrong[0]].shape)}, the "
                  f"config makes it {tuple(expected[wrong[0]].shape)}")  # fmt: skip
        raise ValueError(f"{p} does not match its own config ({detail})")
    if sorted(head) != ["bias", "weight"] or tuple(head["weight"].shape) != (1, config.hidden_size):
        raise ValueError(f"{p} has no value head of the model's width")
    if not all(torch.isfinite(v).all() for v in tensors.values()):
        raise ValueError(f"{p} holds NaN or infinite weights; export the model again")
    lm = LlamaForCausalLM(config)
    lm.load_state_dict(weights, strict=False)
    lm.tie_weights()
    model = PokerLM(lm, preset, fractions, trials)
    model.value_head.load_state_dict(head)
    return model.to(device).eval()


def _settings(settings: object) -> tuple[str, tuple[float, ...], int]:
    """``(preset, fractions, strength_trials)`` of the ``gamelm`` metadata, checked."""
    if not isinstance(settings, dict):
        raise ValueError("the gamelm settings are not a mapping")
    preset = settings.get("preset")
    if not isinstance(preset, str) or not preset:
        raise ValueError("no preset name")
    raw = settings.get("fractions")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_RAISES:
        raise ValueError(f"fractions must be a list of 1 to {MAX_RAISES} pot fractions")
    if not all(isinstance(f, int | float) and not isinstance(f, bool) for f in raw):
        raise ValueError("fractions must be numbers")
    fractions = tuple(float(f) for f in raw)
    if any(not (0 < f < 1e6) for f in fractions) or len(set(fractions)) != len(fractions):
        raise ValueError("fractions must be distinct positive pot fractions")
    trials = settings.get("strength_trials", 0)
    if not isinstance(trials, int) or isinstance(trials, bool) or not 0 <= trials <= 1_000_000:
        raise ValueError("strength_trials must be a whole number from 0 to 1,000,000")
    return preset, tuple(sorted(fractions)), trials


class _Forward(torch.nn.Module):
    def __init__(self, model: PokerLM) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens, mask, choices, legal):
        return self.model(tokens, mask, choices, legal, 1.0)


def export_onnx(model: PokerLM, out: str | Path, example: tuple[torch.Tensor, ...]) -> None:
    """Write the policy and value forward of ``model`` as ONNX to ``out`` (atomically).

    ``example`` is one batch of `gamelm.agents.lm.model_inputs`, traced to fix the graph; the
    batch size and the sequence length stay dynamic."""
    model = model.eval()
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    shapes = {
        "tokens": {0: batch, 1: seq},
        "mask": {0: batch, 1: seq},
        "choices": {0: batch},
        "legal": {0: batch},
    }
    import logging
    import warnings

    path = Path(out)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # "torchvision is not installed"
    with atomic_file(path, ".onnx") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            _Forward(model).eval(),
            tuple(example),
            dynamo=True,
            dynamic_shapes=shapes,
            input_names=["tokens", "mask", "choices", "legal"],
            output_names=["log_probs", "value"],
            verbose=False,
        )
        program.save(str(tmp), external_data=False)


def onnx_gap(model: PokerLM, path: str | Path, example: tuple[torch.Tensor, ...]) -> float:
    """The largest difference, in probability or value, between ONNX Runtime running the file
    at ``path`` and PyTorch running ``model`` on ``example`` (ImportError without
    onnxruntime)."""
    import numpy as np
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path))
    names = ("tokens", "mask", "choices", "legal")
    log_p, value = session.run(None, {n: t.numpy() for n, t in zip(names, example)})
    with torch.inference_mode():
        ref_p, ref_v = model(*example)
    gap = float(np.abs(np.exp(log_p) - ref_p.exp().numpy()).max())
    return max(gap, float(np.abs(value - ref_v.numpy()).max()))


def export_onnx_checked(
    model: PokerLM, out: str | Path, example: tuple[torch.Tensor, ...], tolerance: float = 1e-4
) -> float:
    """`export_onnx`, then `onnx_gap` on ``example``: the gap when it is below ``tolerance``;
    otherwise the file is removed and ValueError says by how much they differ. ImportError
    names the extra to install."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ImportError(
            "ONNX export needs onnx, onnxscript and onnxruntime: pip install 'gamelm[export]'"
        ) from None
    export_onnx(model, out, example)
    gap = onnx_gap(model, out, example)
    if not gap < tolerance:
        Path(out).unlink(missing_ok=True)
        raise ValueError(f"the ONNX model differs from PyTorch by {gap:.2e}; nothing was kept")
    return gap
