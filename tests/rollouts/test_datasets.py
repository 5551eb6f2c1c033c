"""Expert data: SFT records and preference pairs (gamelm datagen)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gamelm.agents.observation import prompt
from gamelm.agents.registry import make_agent
from gamelm.rollouts.datasets import (
    FILES,
    DataError,
    DatagenConfig,
    agreement,
    check_records,
    generate,
    observations,
    rationale,
    read_jsonl,
    record_action,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("data") / "tag6"
    generate(DatagenConfig(expert="tag", hands=300, seats=6, seed=3, rationale=True), out)
    return out


def test_files_are_deduplicated_split_by_prompt_and_rebuild_their_states(data):
    records = {name: read_jsonl(data / name) for name in FILES}
    prompts = {name: [r["prompt"] for r in recs] for name, recs in records.items()}
    assert len(set(prompts["sft.jsonl"])) == len(prompts["sft.jsonl"])  # deduplicated
    assert not set(prompts["sft.jsonl"]) & set(prompts["sft.val.jsonl"])  # split by prompt
    assert not set(prompts["pairs.jsonl"]) & set(prompts["pairs.val.jsonl"])
    assert 0.03 < len(prompts["sft.val.jsonl"]) / len(prompts["sft.jsonl"]) < 0.25
    meta = json.loads((data / "meta.json").read_text())
    assert meta["decisions"] == meta["duplicates"] + sum(
        meta["written"][n] for n in ("sft.jsonl", "sft.val.jsonl")
    )
    for r in records["sft.jsonl"][:200]:
        obs = observations([r["state"]])
        assert prompt(obs, 0) == r["prompt"]  # the state is the decision the prompt shows
        token, why = r["response"].split("\n")
        assert token == f"A{np.flatnonzero(obs.legal[0]).tolist().index(r['action'])}"
        assert record_action(r) == r["action"] and why.startswith("Equity ")
    for r in records["pairs.jsonl"][:200]:
        assert r["chosen"] != r["rejected"]
        assert record_action(r, "chosen") != record_action(r, "rejected")


def test_the_expert_agrees_with_itself_and_chance_is_uniform(data):
    val = read_jsonl(data / "sft.val.jsonl")
    tag = make_agent("tag")

    def tag_probs(obs, equity):
        ids = tag.act(obs, np.random.default_rng(0))
        p = np.zeros(obs.legal.shape)
        p[np.arange(obs.size), ids] = 1
        return p

    agree, chance = agreement(tag_probs, val)
    assert agree > 0.9  # the tag plays at random only in rare postflop spots
    uniform = np.mean([1 / sum(r["state"]["legal"]) for r in val])
    assert chance == pytest.approx(uniform)


def test_blueprint_pairs_reject_a_move_the_blueprint_plays_less(tmp_path, tiny_blueprint):
    out = tmp_path / "bp"
    generate(DatagenConfig(expert=f"blueprint:{tiny_blueprint}", hands=200, seed=0), out)
    bp = make_agent(f"blueprint:{tiny_blueprint}")
    pairs = read_jsonl(out / "pairs.jsonl")[:100]
    for r in pairs:
        obs = observations([r["state"]])
        p = bp.action_probabilities(obs, np.random.default_rng(0))[0]
        assert p[record_action(r, "chosen")] > p[record_action(r, "rejected")] + 0.05


def _one_record() -> str:
    import tempfile

    out = tempfile.mkdtemp()
    generate(DatagenConfig(expert="tag", hands=4, seed=0), out)
    return (Path(out) / "sft.jsonl").read_text().splitlines()[0]


def test_rationale_and_bad_files(tmp_path):
    assert (
        rationale(0.5, 0.25, 1)
        == "Equity 50% against 1 opponent; a call costs 25% of the final pot."
    )
    bad = tmp_path / "sft.jsonl"
    bad.write_text('{"prompt": "x", "response": "A0"}\n{"prompt": \n')
    with pytest.raises(DataError, match=r"sft\.jsonl:2: not valid JSON"):
        read_jsonl(bad)
    bad.write_text('{"prompt": "x"}\n')
    with pytest.raises(DataError, match=r"sft\.jsonl:1: the record has no 'response'"):
        read_jsonl(bad, ("prompt", "response"))
    with pytest.raises(DataError, match="does not exist"):
        read_jsonl(tmp_path / "none.jsonl")
    line = _one_record()
    for change, message in (
        (lambda r: r["state"].pop("players"), r"x\.jsonl:1: the state has no players"),
        (lambda r: r.update(response=3), r"x\.jsonl:1: 'response' must be text"),
        (lambda r: r.update(response="A9"), r"x\.jsonl:1: 'A9' names one of"),
    ):
        record = json.loads(line)
        change(record)
        bad.write_text(json.dumps(record) + "\n")
        with pytest.raises(DataError, match=message):
            check_records(read_jsonl(bad), "x.jsonl", ("response",))
    with pytest.raises(ValueError, match="seats"):
        DatagenConfig(seats=11)


def test_an_existing_dataset_is_refused_or_appended_to(tmp_path):
    out = tmp_path / "d"
    first = generate(DatagenConfig(expert="tag", hands=60, seed=1), out)
    before = {name: len(read_jsonl(out / name)) for name in FILES}
    with pytest.raises(ValueError, match=r"already holds a dataset.*--append"):
        generate(DatagenConfig(expert="tag", hands=10, seed=2), out)
    assert {name: len(read_jsonl(out / name)) for name in FILES} == before  # nothing lost
    with pytest.raises(ValueError, match="other settings \\(expert\\)"):
        generate(DatagenConfig(expert="equity", hands=10, seed=2), out, append=True)
    second = generate(DatagenConfig(expert="tag", hands=60, seed=2), out, append=True)
    after = {name: len(read_jsonl(out / name)) for name in FILES}
    assert after == {name: before[name] + second.written[name] for name in FILES}
    prompts = [
        r["prompt"] for name in ("sft.jsonl", "sft.val.jsonl") for r in read_jsonl(out / name)
    ]
    assert len(prompts) == len(set(prompts))  # deduplicated across the two parts
    meta = json.loads((out / "meta.json").read_text())
    assert [p["config"]["seed"] for p in meta["parts"]] == [1, 2]
    assert meta["written"]["sft.jsonl"] == first.written["sft.jsonl"] + second.written["sft.jsonl"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        generate(DatagenConfig(expert="tag", hands=10), tmp_path / "file")


def test_blueprint_records_carry_its_move_frequencies(tmp_path, tiny_blueprint):
    """``probs`` are the blueprint's own probabilities of the legal moves, in A0..Ak order."""
    out = tmp_path / "bp"
    generate(DatagenConfig(expert=f"blueprint:{tiny_blueprint}", hands=100, seed=2), out)
    bp = make_agent(f"blueprint:{tiny_blueprint}")
    records = read_jsonl(out / "sft.jsonl")[:60]
    for r in records:
        obs = observations([r["state"]])
        p = bp.action_probabilities(obs, np.random.default_rng(0))[0]
        legal = np.flatnonzero(obs.legal[0])
        assert r["probs"] == pytest.approx(p[legal], abs=1e-4)
        assert p[record_action(r)] > 0  # the move it sampled is one it plays
    tag = tmp_path / "tag"
    generate(DatagenConfig(expert="tag", hands=20, seed=0), tag)
    assert all("probs" not in r for r in read_jsonl(tag / "sft.jsonl"))  # no policy: no probs
