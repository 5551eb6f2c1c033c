"""The poker language model: a standard transformers causal LM over the poker vocabulary, read as
a policy over the legal action tokens plus a value head.

The model is a Llama-architecture `transformers` causal LM built from a config (`PRESETS`), and
its vocabulary (`gamelm.agents.observation.VOCAB`) is saved as a standard fast tokenizer, so a saved
model directory loads with ``AutoModelForCausalLM.from_pretrained`` and ``AutoTokenizer`` like any
other, and every later path (TRL, LoRA, export, serving) works on it unchanged. gamelm adds:

* the **policy**: the logits at the last position, restricted to the tokens of the menu entries
  (`gamelm.agents.observation.action_tokens`), illegal entries masked, softmax with a temperature;
* the **value head**: a linear map of the last hidden state (saved as ``value_head.safetensors``);
* ``gamelm.json``: the preset, the action menu the model was trained with, and
  ``strength_trials``: how many Monte Carlo deals estimate the hand-strength token it reads
  (0: the model reads the cards only; models saved before the token existed load as 0).

Saving writes safetensors and JSON only, and loading never unpickles anything.

>>> model = PokerLM.from_preset("tiny", seed=0)
>>> model.num_parameters() < 200_000
True
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from gamelm.errors import first_line
from gamelm.files import atomic_directory
from gamelm.models.causal_lm import KIND as CAUSAL_KIND
from gamelm.models.causal_lm import CausalLMPolicy, plain_model
from gamelm.models.checks import check_directory, check_finite
from gamelm.models.heads import menu_log_probs, pad_left, positions_of
from gamelm.models.llama_fast import causal_allowed, hidden_states
from gamelm.models.pretrained import resolve_model
from gamelm.models.vocab import BOS, PAD, TOKEN, VOCAB

KIND = "poker-lm"  # ``gamelm.json`` kind of the small poker LM (saved before kinds existed: none)


@dataclass(frozen=True)
class Preset:
    """A model size: hidden width, layers, attention heads, MLP width."""

    d_model: int
    n_layers: int
    n_heads: int
    d_ff: int
    max_len: int = 256


PRESETS: dict[str, Preset] = {
    "tiny": Preset(d_model=64, n_layers=2, n_heads=2, d_ff=128),
    "small": Preset(d_model=192, n_layers=4, n_heads=4, d_ff=512),
    "seed15m": Preset(d_model=448, n_layers=6, n_heads=8, d_ff=1216),  # about 15M parameters
}


def build_tokenizer():  # -> transformers.PreTrainedTokenizerFast
    """The poker vocabulary as a standard fast tokenizer (words split on spaces)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel(vocab=dict(TOKEN), unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
        pad_token="<pad>",
        padding_side="left",
    )


def _config(preset: Preset):  # -> transformers.LlamaConfig
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(VOCAB),
        hidden_size=preset.d_model,
        intermediate_size=preset.d_ff,
        num_hidden_layers=preset.n_layers,
        num_attention_heads=preset.n_heads,
        num_key_value_heads=preset.n_heads,
        max_position_embeddings=preset.max_len,
        pad_token_id=PAD,
        bos_token_id=BOS,
        eos_token_id=TOKEN["<eos>"],
        tie_word_embeddings=True,
    )


@dataclass(frozen=True)
class TokenView:
    """How the poker LM reads decisions: the token view (`gamelm.agents.observation.encode`,
    with the strength token when ``strength_trials`` > 0) and the token of every menu entry.
    Shared by the policy and a reward model built on it."""

    fractions: tuple[float, ...]
    strength_trials: int = 0

    def meta(self) -> dict:
        return {
            "view": "tokens",
            "fractions": list(self.fractions),
            "strength_trials": self.strength_trials,
        }

    @property
    def tokenizer(self):  # -> transformers.PreTrainedTokenizerFast
        return build_tokenizer()

    def pad(self, ids: list[list[int]], device: str | torch.device = "cpu"):
        """Left-padded ``(m, T)`` ids and mask, so every row ends at the last column."""
        return pad_left(ids, PAD, device)


class PokerLM(nn.Module):
    """A causal LM over the poker vocabulary with a value head (see the module docstring)."""

    def __init__(
        self, lm: nn.Module, preset: str, fractions: tuple[float, ...], strength_trials: int = 0
    ) -> None:
        super().__init__()
        self.lm = lm
        self.preset = preset
        self.fractions = tuple(fractions)
        self.strength_trials = int(strength_trials)
        self.value_head = nn.Linear(lm.config.hidden_size, 1)

    @classmethod
    def from_preset(
        cls,
        preset: str = "tiny",
        *,
        seed: int = 0,
        fractions: tuple[float, ...] = (0.5, 1.0),
        strength_trials: int = 100,
        **overrides: int,
    ) -> PokerLM:
        """A freshly initialised model of a preset (``overrides`` change its fields, e.g.
        ``d_model=96``) that reads a hand-strength token estimated from ``strength_trials``
        deals (0: no strength token)."""
        from transformers import LlamaForCausalLM

        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; available: {', '.join(PRESETS)}")
        shape = Preset(**{**asdict(PRESETS[preset]), **overrides})
        if shape.d_model % shape.n_heads or (shape.d_model // shape.n_heads) % 2:
            raise ValueError(
                f"d_model ({shape.d_model}) must be a multiple of n_heads ({shape.n_heads}) "
                "with an even quotient (the head width, split in two by rotary embeddings)"
            )
        if strength_trials < 0:
            raise ValueError(f"strength_trials must be >= 0, got {strength_trials}")
        torch.manual_seed(seed)
        model = cls(LlamaForCausalLM(_config(shape)), preset, fractions, strength_trials)
        nn.init.zeros_(model.value_head.weight)
        nn.init.zeros_(model.value_head.bias)
        return model

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        tokens: torch.Tensor,
        mask: torch.Tensor,
        choices: torch.Tensor,
        legal: torch.Tensor,
        temperature: float = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities ``(m, A)`` of the menu entries (illegal ones ``-inf``) and values
        ``(m,)``, from left-padded ``tokens``/``mask`` ``(m, T)``, the token of every menu entry
        ``choices`` ``(m, A)`` and the ``legal`` mask ``(m, A)``."""
        h = hidden_states(self.lm, tokens, positions_of(mask), causal_allowed(mask))
        return self.head(h[:, -1], choices, legal, temperature)  # every row ends at the last column

    def packed(
        self,
        tokens: torch.Tensor,
        positions: torch.Tensor,
        allowed: torch.Tensor,
        rows: torch.Tensor,
        cols: torch.Tensor,
        choices: torch.Tensor,
        legal: torch.Tensor,
        temperature: float = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`forward` for decisions packed into sequences (`gamelm.rollouts.packing.Packed.batch`
        gives the first five arguments): the policy and value of the decision whose last token
        is at ``(rows[i], cols[i])``."""
        h = hidden_states(self.lm, tokens, positions, allowed)
        return self.head(h[rows, cols], choices, legal, temperature)

    def head(
        self, last: torch.Tensor, choices: torch.Tensor, legal: torch.Tensor, temperature: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Policy (log-probabilities over the menu) and value from last hidden states ``(m, d)``."""
        logits = self.lm.lm_head(last)  # (m, V)
        return menu_log_probs(logits, choices, legal, temperature), self.value_head(last).squeeze(
            -1
        )

    @property
    def view(self) -> TokenView:
        return TokenView(self.fractions, self.strength_trials)

    def pad(self, ids: list[list[int]], device: str | torch.device = "cpu"):
        return self.view.pad(ids, device)

    @property
    def tokenizer(self):  # -> transformers.PreTrainedTokenizerFast
        """The poker vocabulary as a transformers tokenizer (what `save` writes)."""
        return build_tokenizer()

    # -- saving and loading ----------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write a transformers model directory plus the value head and ``gamelm.json``,
        atomically: a crash mid-write leaves any previous directory at ``path`` as it was."""
        with atomic_directory(path) as tmp:
            self.write(tmp)

    def write(self, directory: Path) -> None:
        """The files of `save`, written into an existing ``directory`` (not atomic)."""
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Writing model shards" bar per checkpoint
        plain_model(self.lm).save_pretrained(directory, safe_serialization=True)
        build_tokenizer().save_pretrained(directory)
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in self.value_head.state_dict().items()},
            str(directory / "value_head.safetensors"),
        )
        meta = {
            "kind": KIND,
            "preset": self.preset,
            "fractions": list(self.fractions),
            "strength_trials": self.strength_trials,
            "format": 1,
        }
        (directory / "gamelm.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> PokerLM:
        """A model written by `save` (safetensors and JSON only)."""
        from transformers import AutoModelForCausalLM
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar per model
        root = Path(path)
        meta_path = root / "gamelm.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{root} is not a gamelm model directory (no gamelm.json)")
        try:
            meta = json.loads(meta_path.read_text())
            preset, fractions = meta["preset"], tuple(float(f) for f in meta["fractions"])
            trials = int(meta.get("strength_trials", 0))
            if trials < 0:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise ValueError(
                f"{meta_path} is not a valid gamelm.json (preset, fractions, strength_trials)"
            ) from None
        check_directory(root)
        try:
            model_type = json.loads((root / "config.json").read_text()).get("model_type")
        except (ValueError, AttributeError):
            model_type = None
        if model_type != "llama":
            raise ValueError(
                f"{root} is not a poker LM: its config.json is of a {model_type!r} model, the "
                "poker LM is a Llama (a transformers LLM plays as hf:PATH)"
            )
        try:
            lm = AutoModelForCausalLM.from_pretrained(root, use_safetensors=True)
            head = load_file(str(root / "value_head.safetensors"))
        except (OSError, ValueError, RuntimeError, TypeError, KeyError, SafetensorError) as exc:
            raise ValueError(f"{root} holds no loadable model: {first_line(exc)}") from None
        if lm.config.vocab_size < len(VOCAB):  # saved before the strength tokens were added
            lm.resize_token_embeddings(len(VOCAB), mean_resizing=False)  # never read by it
        model = cls(lm, preset, fractions, trials)
        try:
            model.value_head.load_state_dict(head)
        except RuntimeError:
            raise ValueError(
                f"{root / 'value_head.safetensors'} is not a value head of this model "
                f"(it holds {sorted(head)})"
            ) from None
        check_finite(model, root)
        return model.to(device).eval()


def load_policy(
    path: str | Path,
    device: str | torch.device = "cpu",
    dtype: str | None = None,
    prompt_style: str | None = None,
):
    """The policy saved at ``path``: a `PokerLM` (``gamelm.json`` of kind ``poker-lm`` or none),
    or a `gamelm.models.causal_lm.CausalLMPolicy` (kind ``causal-lm``, or any transformers
    causal LM directory or hub name without a ``gamelm.json``). The run directory of
    ``gamelm train`` stands for its ``final_model``. ``dtype`` (``float32``, ``bfloat16``,
    ``float16``; None: the checkpoint's own) applies to transformers LLMs: train in float32
    (``--bf16`` then autocasts), play in the checkpoint's dtype. ``gguf:PATH`` and the names of
    shipped models (``smollm2-135m-instruct``) load their converted copy
    (`gamelm.models.pretrained`). ``prompt_style`` (``full``, ``compact`` or ``equity``; None:
    the saved model's own, ``full`` for any other) sets the prompt a transformers LLM reads."""
    path = resolve_model(path)
    root = Path(path).expanduser()
    if not (root / "config.json").is_file() and (root / "final_model" / "config.json").is_file():
        root = path = root / "final_model"  # a gamelm train run directory
    meta_path = root / "gamelm.json"
    if meta_path.is_file():
        try:
            kind = json.loads(meta_path.read_text()).get("kind", KIND)
        except (ValueError, AttributeError):
            raise ValueError(f"{meta_path} is not a valid gamelm.json") from None
        if kind == KIND:
            if prompt_style is not None:
                raise ValueError(
                    f"{root} is a poker LM, which reads tokens, not a prompt: prompt_style "
                    "applies to transformers LLMs"
                )
            return PokerLM.load(root, device)
        if kind != CAUSAL_KIND:
            raise ValueError(f"{meta_path} names an unknown model kind {kind!r}")
    return CausalLMPolicy.load(path, device, dtype, prompt_style)
