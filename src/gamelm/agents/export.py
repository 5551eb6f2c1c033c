"""Exporting the small poker LM: one self-contained safetensors file, and ONNX.

**safetensors** (`export_model`): the weights of the transformers Llama and the value head in
one file, with everything needed to rebuild it in the file's metadata: the transformers config
(``config``), gamelm's own settings (``gamelm``: preset, raise sizes, strength trials) and a
format tag. The tokenizer is not stored: the poker vocabulary is fixed by gamelm's code
(`gamelm.agents.lm.build_tokenizer`). `load_exported` rebuilds the model from the file alone,
without unpickling anything; `gamelm.load_agent` turns it into a playing agent.

**ONNX** (`export_onnx`): the policy and value forward, ``(tokens, mask, choices, legal) ->
(log_probs, value)`` with the batch and sequence length dynamic, for runtimes without PyTorch.
The inputs are what `gamelm.agents.lm.PokerLM.inputs` makes from observations; tests check the
ONNX Runtime outputs against PyTorch's.

>>> import tempfile, os
>>> from gamelm.agents.lm import PokerLM
>>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
>>> info = export_model(PokerLM.from_preset("tiny", seed=0), path)
>>> load_exported(path).fractions
(0.5, 1.0)
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from gamelm.agents.lm import KIND, PokerLM
from gamelm.files import atomic_file

FORMAT = "gamelm-poker-lm/1"


def export_model(model: PokerLM, out: str | Path) -> dict:
    """Write ``model`` to the single file ``out`` (atomically); returns its metadata."""
    from safetensors.torch import save_file

    from gamelm.agents.causal_lm import plain_model

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
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"{p} has damaged metadata") from None
    lm = LlamaForCausalLM(config)
    weights = {k[3:]: v for k, v in tensors.items() if k.startswith("lm.")}
    missing, unexpected = lm.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        raise ValueError(f"{p} does not match its config (missing {missing[:3]})")
    lm.tie_weights()
    model = PokerLM(
        lm,
        settings["preset"],
        tuple(settings["fractions"]),
        int(settings.get("strength_trials", 0)),
    )
    head = {k[11:]: v for k, v in tensors.items() if k.startswith("value_head.")}
    model.value_head.load_state_dict(head)
    return model.to(device).eval()


class _Forward(torch.nn.Module):
    def __init__(self, model: PokerLM) -> None:
        super().__init__()
        self.model = model

    def forward(self, tokens, mask, choices, legal):
        return self.model(tokens, mask, choices, legal, 1.0)


def export_onnx(model: PokerLM, out: str | Path, example: tuple[torch.Tensor, ...]) -> None:
    """Write the policy and value forward of ``model`` as ONNX to ``out`` (atomically).

    ``example`` is one batch of `PokerLM.inputs`, traced to fix the graph; the batch size and
    the sequence length stay dynamic."""
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
