"""Shared fixtures: tiny transformers models built from a config and a tokenizer trained here
(tests never download anything)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def _corpus(n: int = 200) -> list[str]:
    """Prompts of random heads-up and 6-max decisions (the text a poker LLM reads)."""
    from gamelm.agents.base import observe
    from gamelm.agents.baselines import RandomAgent
    from gamelm.agents.observation import ActionHistory, prompt
    from gamelm.poker.abstraction import ActionAbstraction
    from gamelm.poker.batch import BatchEngine

    texts, rng, menu = [], np.random.default_rng(0), ActionAbstraction((0.5, 1.0))
    for seats in (2, 6):
        eng = BatchEngine(n // 20, seats, 1, 2, starting_stacks=200)
        eng.reset(seed=seats)
        hist = ActionHistory(eng.num_tables, seats)
        hist.reset(np.arange(eng.num_tables))
        for _ in range(10):
            tables = np.flatnonzero(~eng.done)
            if tables.size == 0:
                break
            obs = observe(eng, menu, tables, history=hist)
            texts += [prompt(obs, i) for i in range(obs.size)]
            ids = RandomAgent().act(obs, rng)
            hist.record(obs, ids)
            before = eng.street.copy()
            full = np.full(eng.num_tables, 1)
            full[tables] = ids
            menu.step(eng, full)
            dealt = np.flatnonzero((eng.street != before) & ~eng.done)
            if dealt.size:
                hist.new_street(dealt, eng.street[dealt], eng.board[dealt])
    return texts


def build_tiny_causal_lm(directory: Path, chat: bool = True, seed: int = 0) -> Path:
    """A 2-layer Llama with a byte-level BPE tokenizer trained on poker prompts, saved the way a
    hub model is (config, safetensors, tokenizer files)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    core = Tokenizer(models.BPE(unk_token=None))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    specials = ["<|pad|>", "<|bos|>", "<|eos|>", "<|user|>", "<|assistant|>", "<|end|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(_corpus(), trainer)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<|bos|>", eos_token="<|eos|>", pad_token="<|pad|>"
    )
    if chat:
        tok.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        tie_word_embeddings=False,
        initializer_range=0.2,  # logits of a useful scale from the start, like a trained model's
    )
    LlamaForCausalLM(config).save_pretrained(directory, safe_serialization=True)
    tok.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_hf_model(tmp_path_factory) -> Path:
    """A tiny chat model directory (built once per session; copy it before changing it)."""
    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny-hf") / "model", chat=True)


@pytest.fixture(scope="session")
def tiny_hf_base_model(tmp_path_factory) -> Path:
    """A tiny model without a chat template."""
    return build_tiny_causal_lm(tmp_path_factory.mktemp("tiny-hf-base") / "model", chat=False)


@pytest.fixture(scope="session")
def tiny_blueprint(tmp_path_factory) -> Path:
    """A hold'em blueprint of a few MCCFR rounds with coarse card buckets."""
    from gamelm.solvers.blueprint import Blueprint, BlueprintConfig, train

    cfg = BlueprintConfig(
        equity_bins=3, spread_bins=2, river_bins=3, runouts=4, opponents=4, batch_size=128
    )
    bp = train(Blueprint.new(cfg), iterations=6)
    path = tmp_path_factory.mktemp("bp") / "blueprint"
    bp.save(path)
    return path


@pytest.fixture(scope="session")
def tag_data(tmp_path_factory) -> Path:
    """Heads-up expert data from the tight-aggressive baseline (a few hundred decisions)."""
    from gamelm.rollouts.datasets import DatagenConfig, generate

    out = tmp_path_factory.mktemp("tag-data") / "data"
    generate(DatagenConfig(expert="tag", hands=400, seats=2, seed=0), out)
    return out


@pytest.fixture(scope="session")
def tiny_poker_lm(tmp_path_factory) -> Path:
    """A freshly initialised tiny poker LM directory (copy it before changing it)."""
    from gamelm.models.lm import PokerLM

    path = tmp_path_factory.mktemp("tiny-lm") / "model"
    PokerLM.from_preset("tiny", seed=0).save(path)
    return path
