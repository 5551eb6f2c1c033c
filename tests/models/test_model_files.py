"""Damaged or hostile model files end in one sentence (ValueError), never a traceback, a huge
allocation or an unpickled file; a model with NaN weights is refused when it loads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import gamelm
from gamelm.models.causal_lm import CausalLMPolicy
from gamelm.models.export import export_model, load_exported
from gamelm.models.lm import PokerLM, load_policy
from gamelm.solvers.blueprint import Blueprint


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "m.safetensors"
    export_model(PokerLM.from_preset("tiny", seed=0), path)
    return path


def _rewrite(src: Path, dst: Path, change_meta=None, change_tensors=None) -> Path:
    with safe_open(str(src), "pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if change_meta:
        change_meta(meta)
    if change_tensors:
        change_tensors(tensors)
    save_file(tensors, str(dst), metadata=meta)
    return dst


def _gamelm(meta: dict, **changes) -> None:
    settings = json.loads(meta["gamelm"])
    for key, value in changes.items():
        if value is None:
            settings.pop(key)
        else:
            settings[key] = value
    meta["gamelm"] = json.dumps(settings)


def _config(meta: dict, **changes) -> None:
    meta["config"] = json.dumps({**json.loads(meta["config"]), **changes})


@pytest.mark.parametrize(
    "change_meta,change_tensors,message",
    [
        (lambda m: _gamelm(m, fractions="half"), None, "fractions must be a list"),
        (lambda m: _gamelm(m, fractions=[0.5, -1]), None, "distinct positive"),
        (lambda m: _gamelm(m, preset=None), None, "no preset"),
        (lambda m: _gamelm(m, strength_trials=-3), None, "strength_trials"),
        (lambda m: m.update(gamelm="[1, 2]"), None, "not a mapping"),
        (lambda m: _config(m, hidden_size="64"), None, "damaged metadata"),
        (lambda m: _config(m, rope_parameters={"rope_type": "nosuch"}), None, "config"),
        # a config that claims a huge model over a tiny file: refused before any allocation
        (lambda m: _config(m, num_hidden_layers=100_000, hidden_size=65_536), None,
         "the config has 100000 layers, the weights 2"),
        (lambda m: _config(m, intermediate_size=10_000_000), None,
         "does not match its own config"),
        (None, lambda t: t.update({"lm.model.norm.weight": torch.ones(3)}),
         "does not match its own config"),
        (None, lambda t: t.pop("value_head.weight"), "no value head"),
        (None, lambda t: t["lm.model.norm.weight"].fill_(float("nan")), "NaN or infinite"),
    ],
)  # fmt: skip
def test_a_bad_export_is_refused_in_one_sentence(
    exported, tmp_path, change_meta, change_tensors, message
):
    bad = _rewrite(exported, tmp_path / "bad.safetensors", change_meta, change_tensors)
    with pytest.raises(ValueError, match=message):
        load_exported(bad)
    with pytest.raises(ValueError, match=message):  # before a server could start with it
        gamelm.load_agent(str(bad))


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_a_damaged_model_directory_is_refused_in_one_sentence(tiny_poker_lm, tmp_path):
    bad = _copy(tiny_poker_lm, tmp_path / "wrong_type")
    config = json.loads((bad / "config.json").read_text())
    (bad / "config.json").write_text(json.dumps({**config, "hidden_size": "wide"}))
    with pytest.raises(ValueError, match="config"):
        PokerLM.load(bad)

    bad = _copy(tiny_poker_lm, tmp_path / "gpt2")
    (bad / "config.json").write_text(json.dumps({**config, "model_type": "gpt2"}))
    with pytest.raises(ValueError, match=r"config|not a poker LM"):
        PokerLM.load(bad)

    bad = _copy(tiny_poker_lm, tmp_path / "layers")
    (bad / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 100_000}))
    with pytest.raises(ValueError, match="the config has 100000 layers, the weights 2"):
        PokerLM.load(bad)

    bad = _copy(tiny_poker_lm, tmp_path / "huge")
    big = {**config, "intermediate_size": 500_000}
    (bad / "config.json").write_text(json.dumps(big))
    with pytest.raises(ValueError, match=r"describes a model of .* MB but its weights hold"):
        PokerLM.load(bad)

    bad = _copy(tiny_poker_lm, tmp_path / "head")
    save_file({"w": torch.zeros(2)}, str(bad / "value_head.safetensors"))
    with pytest.raises(ValueError, match="is not a value head of this model"):
        PokerLM.load(bad)

    bad = _copy(tiny_poker_lm, tmp_path / "pickled")
    torch.save({"x": torch.zeros(1)}, bad / "pytorch_model.bin")
    (bad / "model.safetensors").unlink()
    with pytest.raises(ValueError, match=r"pickled weights .*pytorch_model\.bin"):
        load_policy(bad)

    bad = _copy(tiny_poker_lm, tmp_path / "nan")
    model = PokerLM.load(bad)
    with torch.no_grad():
        model.lm.model.norm.weight.fill_(float("nan"))
    model.save(bad)
    with pytest.raises(ValueError, match="NaN or infinite weights"):
        PokerLM.load(bad)


def test_a_pickled_llm_is_never_unpickled(tiny_hf_model, tmp_path):
    bad = _copy(tiny_hf_model, tmp_path / "llm")
    for f in bad.glob("*.safetensors"):
        f.unlink()
    torch.save({"x": torch.zeros(1)}, bad / "pytorch_model.bin")
    with pytest.raises(ValueError, match="pickled weights"):
        CausalLMPolicy.load(bad)


def test_a_damaged_blueprint_is_refused_in_one_sentence(tiny_blueprint, tmp_path):
    bad = _copy(tiny_blueprint, tmp_path / "cut")
    tables = bad / "tables.npz"
    tables.write_bytes(tables.read_bytes()[:200])
    with pytest.raises(ValueError, match="cannot read the blueprint"):
        Blueprint.load(bad)
    bad = _copy(tiny_blueprint, tmp_path / "list")
    (bad / "blueprint.json").write_text("[1, 2, 3]")
    with pytest.raises(ValueError, match="not written by gamelm solve holdem"):
        Blueprint.load(bad)
    bad = _copy(tiny_blueprint, tmp_path / "counters")
    meta = json.loads((bad / "blueprint.json").read_text())
    del meta["iterations"]
    (bad / "blueprint.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="cannot read the blueprint"):
        Blueprint.load(bad)


def test_nan_weights_in_memory_are_named_not_an_illegal_action(tiny_poker_lm):
    from gamelm.agents.lm import LMAgent
    from gamelm.agents.registry import make_agent
    from gamelm.evaluation.match import MatchConfig, play_match

    model = PokerLM.load(tiny_poker_lm)
    with torch.no_grad():
        model.value_head.weight.fill_(0)
        model.lm.model.norm.weight.fill_(float("nan"))
    agent = LMAgent(model, name="broken")
    with pytest.raises(ValueError, match="broken: the model's policy is not a number"):
        play_match([agent, make_agent("random")], MatchConfig(seats=2, hands=4, seed=0))
