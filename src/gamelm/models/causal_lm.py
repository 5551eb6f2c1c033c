"""Any Hugging Face causal LM (Qwen2.5, Llama 3.1, SmolLM2...) as a poker policy.

The model reads the natural-language prompt of `gamelm.agents.observation.prompt` (the table, the
cards, the pot, the stacks, the action so far and the legal actions as ``A0..Ak``), wrapped in its
chat template when it has one (otherwise followed by ``"\\nAnswer:"``), and the policy is the
softmax of the logits of the legal action tokens ``A0..Ak`` at the last position: one forward pass
per decision, batched, no free-text generation. ``A0..A15`` are added to the tokenizer when any of
them is not one token (Qwen and Llama split ``A3`` into ``A`` and ``3``); the new embeddings start
at the mean of the old ones. A linear value head reads the last hidden state.

`CausalLMPolicy` has the interface of `gamelm.models.lm.PokerLM` (a ``view`` that turns text into
ids, ``forward`` giving log-probabilities over the menu and values, ``save``/``load``), so every
trainer (SFT, reward model, RL) and `gamelm.agents.lm.LMAgent` take either. A saved
policy is a plain transformers directory (``from_pretrained`` loads it) plus
``value_head.safetensors`` and ``gamelm.json`` (``"kind": "causal-lm"``).
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from gamelm.errors import first_line
from gamelm.files import atomic_directory
from gamelm.models.checks import check_directory, check_finite
from gamelm.models.heads import menu_log_probs, pad_left, positions_of
from gamelm.models.pretrained import resolve_model

PROMPT_STYLES = ("full", "compact", "equity")  # of gamelm.agents.observation.prompt
PREFIX_CACHES = 8  # shared prefixes whose key/value cache is kept between calls
MAX_ACTIONS = 16  # A0..A15: more than any menu offers (fold, call, up to 8 raises, all-in)
ACTION_WORDS = tuple(f"A{k}" for k in range(MAX_ACTIONS))
LISTED = re.compile(r"- A(\d+):|^A(\d+) ", re.MULTILINE)  # "- A0: Fold ..."; compact "A0 fold"


def listed_actions(text: str) -> list[str]:
    """The action tokens a gamelm prompt lists (``- A0: ...`` lines, or ``A0 ...`` lines of the
    compact prompt), in order; none for other text."""
    numbers = {int(a or b) for a, b in LISTED.findall(text)}
    return [f"A{k}" for k in sorted(numbers) if k < MAX_ACTIONS]


ANSWER_CUE = "\nAnswer:"  # ends the prompt of a model without a chat template
KIND = "causal-lm"


def load_pretrained(
    name_or_path: str | Path, dtype: str | None = None, local_files_only: bool = False
):
    """``(model, tokenizer)`` from a local directory or a hub name, with one clear sentence when
    either cannot be loaded. ``dtype``: ``"bfloat16"``, ``"float16"``, ``"float32"`` or None (the
    checkpoint's own). ``local_files_only``: a hub name must already be in the local cache."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    source = resolve_model(name_or_path)
    local = Path(source).expanduser()
    if local.exists() and not (local / "config.json").is_file():
        raise ValueError(f"{local} is not a transformers model directory (no config.json)")
    first = Path(local.parts[0]) if local.parts else local
    path_like = source.startswith((".", "/", "~")) or source.count("/") != 1 or first.exists()
    if not local.exists() and path_like:  # a hub name is exactly owner/name
        raise FileNotFoundError(
            f"model path {source} does not exist (hub models are named owner/name)"
        )
    if dtype is not None and dtype not in ("float32", "bfloat16", "float16"):
        raise ValueError(f"dtype must be float32, bfloat16 or float16, got {dtype!r}")
    if local.exists():
        check_directory(local)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local_files_only)
        kwargs: dict = {"local_files_only": local_files_only, "use_safetensors": True}
        if dtype is not None:
            kwargs["dtype"] = getattr(torch, dtype)
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        where = "" if local.exists() else f"{source} is not a local directory, and as a hub name: "
        raise ValueError(f"cannot load the model {source!r}: {where}{first_line(exc)}") from None
    return model, tokenizer


def plain_model(lm: nn.Module) -> nn.Module:
    """``lm`` itself, or for a PEFT model a copy with the adapters merged (the model being
    trained keeps its adapters)."""
    if not hasattr(lm, "merge_and_unload"):
        return lm
    import copy

    return copy.deepcopy(lm).merge_and_unload()


def action_token_ids(tokenizer, lm: nn.Module | None = None) -> list[int]:
    """The ids of ``A0..A15``; they are added to ``tokenizer`` when any of them is not a single
    token, and ``lm``'s embeddings grow to match: the row of a new ``Ak`` (input and output)
    starts at the mean of the rows of the pieces ``Ak`` was split into, so the new tokens start
    apart and near what the model already reads in ``Ak``."""
    ids = [tokenizer.encode(w, add_special_tokens=False) for w in ACTION_WORDS]
    if all(len(i) == 1 for i in ids) and len({i[0] for i in ids}) == MAX_ACTIONS:
        return [i[0] for i in ids]
    tokenizer.add_tokens(list(ACTION_WORDS))
    new = [tokenizer.convert_tokens_to_ids(w) for w in ACTION_WORDS]
    if lm is not None and lm.get_input_embeddings().num_embeddings < len(tokenizer):
        lm.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        with torch.no_grad():
            layers = {id(m): m for m in (lm.get_input_embeddings(), lm.get_output_embeddings())}
            for layer in layers.values():
                if layer is None:
                    continue
                w = layer.weight
                for token, pieces in zip(new, ids):
                    w[token] = w[pieces].mean(dim=0)
    return new


class PromptView:
    """How a transformers LLM reads decisions: the rendered prompt's ids, and the token of every
    menu entry (``A<k>`` for the k-th legal entry). Shared by the policy and the reward model."""

    def __init__(
        self,
        tokenizer,
        use_chat: bool | None = None,
        lm: nn.Module | None = None,
        style: str = "full",
    ):
        if style not in PROMPT_STYLES:
            raise ValueError(f"prompt style must be {', '.join(PROMPT_STYLES)}, got {style!r}")
        self.tokenizer = tokenizer
        self.style = style  # which prompt of gamelm.agents.observation.prompt the model reads
        if tokenizer.pad_token is None:  # Llama has none: pad with end-of-sequence
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        size = len(tokenizer)
        self.action_ids = action_token_ids(tokenizer, lm)
        self.added = len(tokenizer) > size  # A0..A15 were added (the saved model lacks them)
        self.use_chat = bool(tokenizer.chat_template) if use_chat is None else use_chat

    def meta(self) -> dict:
        return {"view": "prompt", "use_chat": self.use_chat, "prompt": self.style}

    def render(self, text: str) -> str:
        """The text the model reads for a prompt: its chat template, else the prompt and a cue."""
        if self.use_chat:
            return self.tokenizer.apply_chat_template(
                [{"role": "user", "content": text}], add_generation_prompt=True, tokenize=False
            )
        return text + ANSWER_CUE

    def text_ids(self, text: str) -> list[int]:
        """Token ids of a rendered prompt (special tokens added only without a chat template,
        whose text already holds them)."""
        return self.tokenizer(text, add_special_tokens=not self.use_chat)["input_ids"]

    def pad(self, ids: list[list[int]], device: str | torch.device = "cpu"):
        """Left-padded ``(m, T)`` ids and mask, so every row ends at the last column."""
        return pad_left(ids, self.tokenizer.pad_token_id, device)


class CausalLMPolicy(nn.Module):
    """A causal LM read as a policy over the legal action tokens, plus a value head."""

    fractions = None  # plays any menu: the prompt lists the legal actions themselves
    max_batch = 12  # decisions per forward pass (more pads more and attends wider: slower on CPUs)

    def __init__(
        self, lm: nn.Module, tokenizer, use_chat: bool | None = None, style: str = "full"
    ) -> None:
        super().__init__()
        self.lm = lm
        self.view = PromptView(tokenizer, use_chat, lm, style)
        self._prefixes: dict[tuple[int, ...], tuple] = {}  # key/value caches of shared prefixes
        hidden = lm.config.get_text_config().hidden_size
        self.value_head = nn.Linear(hidden, 1)
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)

    tokenizer = property(lambda self: self.view.tokenizer)
    action_ids = property(lambda self: self.view.action_ids)
    use_chat = property(lambda self: self.view.use_chat)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path,
        dtype: str | None = None,
        use_chat: bool | None = None,
        style: str = "full",
    ) -> CausalLMPolicy:
        """A policy around a transformers causal LM (a directory or a hub name)."""
        lm, tokenizer = load_pretrained(name_or_path, dtype)
        return cls(lm, tokenizer, use_chat, style)

    # -- text and ids (the view) -----------------------------------------------------------

    def render(self, text: str) -> str:
        return self.view.render(text)

    def text_ids(self, text: str) -> list[int]:
        return self.view.text_ids(text)

    def pad(self, ids: list[list[int]], device: str | torch.device = "cpu"):
        return self.view.pad(ids, device)

    # -- the policy ----------------------------------------------------------------------------

    def last_hidden(self, tokens: torch.Tensor, mask: torch.Tensor):
        """Logits ``(m, V)`` and the last hidden state ``(m, d)`` at the last position."""
        positions = positions_of(mask)
        out = self.lm(
            input_ids=tokens,
            attention_mask=mask.long(),
            position_ids=positions,
            output_hidden_states=True,
            use_cache=False,
            logits_to_keep=1,
        )
        return out.logits[:, -1], out.hidden_states[-1][:, -1]

    def forward(
        self,
        tokens: torch.Tensor,
        mask: torch.Tensor,
        choices: torch.Tensor,
        legal: torch.Tensor,
        temperature: float = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities ``(m, A)`` of the menu entries (illegal ones ``-inf``) and values
        ``(m,)``, from left-padded ``tokens``/``mask`` ``(m, T)``."""
        logits, last = self.last_hidden(tokens, mask)
        value = self.value_head(last.to(self.value_head.weight.dtype)).squeeze(-1)
        return menu_log_probs(logits, choices, legal, temperature), value.float()

    def decide(
        self,
        ids: list[list[int]],
        choices: torch.Tensor,
        legal: torch.Tensor,
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """Log-probabilities ``(m, A)`` of the menu entries, as `forward` gives them, for
        unpadded prompt ids, without gradients and faster: the prefix every row shares (the chat
        template's head and the prompt's first line) is read once and its key/value cache reused
        by every row (and kept for later calls while the weights stay the same), and the rows
        are read in batches of similar length, so little padding is read."""
        device = self.lm.device
        prefix = self._shared_prefix(ids)
        cache = self._prefix_cache(prefix) if prefix else None
        order = sorted(range(len(ids)), key=lambda r: len(ids[r]))
        out = torch.empty(choices.shape, dtype=torch.float32, device=device)
        with torch.inference_mode():
            for lo in range(0, len(order), self.max_batch):
                rows = order[lo : lo + self.max_batch]
                tokens, mask = self.pad([ids[r][len(prefix) :] for r in rows], device)
                logits = self._tail_logits(tokens, mask, cache, len(prefix))
                index = torch.tensor(rows, device=device)
                out[index] = menu_log_probs(
                    logits, choices[index].to(device), legal[index].to(device), temperature
                )
        return out

    def _shared_prefix(self, ids: list[list[int]]) -> list[int]:
        """The longest prefix of every row (one token short of the shortest row): with one
        row, the longest cached prefix it starts with."""
        if not ids:
            return []
        if len(ids) == 1:
            row = tuple(ids[0])
            known = [p for p in self._prefixes if len(p) < len(row) and row[: len(p)] == p]
            return list(max(known, key=len)) if known else []
        first = ids[0]
        n = min(len(r) for r in ids) - 1
        for row in ids[1:]:
            k = 0
            while k < n and row[k] == first[k]:
                k += 1
            n = k
        return first[:n]

    def _weights_version(self) -> tuple[int, int]:
        """Changes whenever the weights do (in-place optimizer steps bump the tensors' version
        counters; a merged or reloaded model is a new module)."""
        return id(self.lm), sum(p._version for p in self.lm.parameters())

    def _prefix_cache(self, prefix: list[int]) -> tuple:
        """The key/value tensors of every layer for ``prefix`` (batch 1), computed once."""
        version = self._weights_version()
        key = tuple(prefix)
        hit = self._prefixes.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        if any(v[0] != version for v in self._prefixes.values()):
            self._prefixes.clear()  # the weights changed: every cache is stale
        tokens = torch.tensor([prefix], device=self.lm.device)
        with torch.inference_mode():
            out = self.lm(input_ids=tokens, use_cache=True, logits_to_keep=1)
        cache = out.cache if "cache" in out else out.past_key_values  # its name before 5.25
        layers = tuple((layer.keys, layer.values) for layer in cache.layers)
        while len(self._prefixes) >= PREFIX_CACHES:
            self._prefixes.pop(next(iter(self._prefixes)))
        self._prefixes[key] = (version, layers)
        return layers

    def _tail_logits(
        self, tokens: torch.Tensor, mask: torch.Tensor, cache: tuple | None, start: int
    ) -> torch.Tensor:
        """Logits ``(m, V)`` at the last position of left-padded ``tokens`` that continue a
        cached prefix of ``start`` tokens (none: ``start`` is 0)."""
        if cache is None:
            return self.last_hidden(tokens, mask)[0]
        from transformers import DynamicCache

        m = tokens.shape[0]
        past = DynamicCache(
            ddp_cache_data=[(k.expand(m, -1, -1, -1), v.expand(m, -1, -1, -1)) for k, v in cache],
            config=self.lm.config,
        )
        seen = torch.ones(m, start, dtype=torch.long, device=mask.device)
        base = self.lm.get_base_model() if hasattr(self.lm, "get_base_model") else self.lm
        named = "cache" if "cache" in inspect.signature(base.forward).parameters else None
        out = self.lm(
            input_ids=tokens,
            attention_mask=torch.cat([seen, mask.long()], 1),
            position_ids=positions_of(mask) + start,
            use_cache=True,
            logits_to_keep=1,
            **{named or "past_key_values": past},  # named past_key_values before 5.25
        )
        return out.logits[:, -1]

    def trainable_tokens(self) -> dict[str, list[int]] | None:
        """The action tokens' input-embedding rows, trained as PEFT trainable tokens under LoRA
        (LoRA leaves embeddings frozen). Not for a model whose output layer shares those
        weights: TRL computes the loss from the output weights directly, so the wrapper PEFT puts
        on a tied output layer would not be trained; there the tokens keep their starting rows
        (`action_token_ids`) and the adapters learn around them."""
        if self.lm.config.get_text_config().tie_word_embeddings:
            return None
        for name, module in self.lm.named_modules():
            if module is self.lm.get_input_embeddings():
                return {name.rsplit(".", 1)[-1]: list(self.action_ids)}
        return None

    def prompt_probabilities(self, text: str) -> dict[str, float]:
        """For a gamelm-format prompt (its legal actions listed as ``- A0: ...``, or ``A0 ...`` in
        the compact prompt), the policy's probability of each listed action token."""
        listed = listed_actions(text)
        if not listed:
            raise ValueError("the prompt lists no legal actions (lines like '- A0: Fold ...')")
        tokens, mask = self.pad([self.text_ids(self.render(text))], self.lm.device)
        with torch.inference_mode():
            logits, _ = self.last_hidden(tokens, mask)
        ids = torch.tensor([self.action_ids[int(w[1:])] for w in listed], device=logits.device)
        p = torch.softmax(logits[0].float()[ids], dim=-1).cpu().tolist()
        return dict(zip(listed, p))

    def generate_text(self, text: str, max_new_tokens: int = 128, temperature: float = 0.7) -> str:
        """A free-text answer to ``text`` (a question or a prompt), sampled at ``temperature``
        (0: greedy)."""
        tokens, mask = self.pad([self.text_ids(self.render(text))], self.lm.device)
        tok = self.tokenizer
        kwargs = {"do_sample": temperature > 0}
        if temperature > 0:
            kwargs["temperature"] = temperature
        with torch.inference_mode():
            out = self.lm.generate(
                input_ids=tokens,
                attention_mask=mask.long(),
                max_new_tokens=max_new_tokens,
                pad_token_id=tok.pad_token_id,
                eos_token_id=tok.eos_token_id,
                **kwargs,
            )
        return tok.decode(out[0, tokens.shape[1] :], skip_special_tokens=True).strip()

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # -- saving and loading ----------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """A transformers directory plus the value head and ``gamelm.json``, atomically."""
        with atomic_directory(path) as tmp:
            self.write(tmp)

    def write(self, directory: Path) -> None:
        """The files of `save`, written into an existing ``directory`` (not atomic)."""
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        plain_model(self.lm).save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in self.value_head.state_dict().items()},
            str(directory / "value_head.safetensors"),
        )
        meta = {"kind": KIND, **self.view.meta(), "format": 1}
        (directory / "gamelm.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: str | torch.device = "cpu",
        dtype: str | None = None,
        prompt_style: str | None = None,
    ) -> CausalLMPolicy:
        """A policy saved by `save`, or any transformers causal LM directory or hub name (a new
        value head then starts at zero). ``prompt_style`` overrides the saved prompt style."""
        root = Path(path).expanduser()
        meta = {}
        if (root / "gamelm.json").is_file():
            try:
                meta = json.loads((root / "gamelm.json").read_text())
            except ValueError:
                raise ValueError(f"{root / 'gamelm.json'} is not valid JSON") from None
        style = prompt_style or meta.get("prompt", "full")
        if style not in PROMPT_STYLES:
            where = "prompt_style" if prompt_style else f"{root / 'gamelm.json'}"
            known = ", ".join(PROMPT_STYLES)
            raise ValueError(f"{where}: unknown prompt style {style!r} ({known})")
        policy = cls.from_pretrained(path, dtype, use_chat=meta.get("use_chat"), style=style)
        head = root / "value_head.safetensors"
        if head.is_file():
            try:
                policy.value_head.load_state_dict(load_file(str(head)))
            except (RuntimeError, SafetensorError, OSError) as exc:
                raise ValueError(f"{head} is not a value head of this model ({exc})") from None
        check_finite(policy, path)
        return policy.to(device).eval()
