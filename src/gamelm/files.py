"""Writing files and directories atomically: a crash mid-write never leaves a half-written file
or directory where a reader (``from_pretrained``, ``--resume``, a cache) would find it; and the
cache folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it replaces ``path`` (any old
    directory there is removed only after the new one is in place), on failure it is deleted
    and ``path`` is left as it was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp"))
    try:
        yield tmp
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; the folder gets the usual permissions
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def atomic_file(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary file name beside ``path`` (ending in ``suffix``, for writers that read
    the format from it); on success the file replaces ``path``, on failure it is deleted."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        # mkstemp makes 0600, and some writers (safetensors) recreate the file as private:
        # the file gets the usual permissions
        tmp.chmod(0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def cache_dir() -> Path:
    """Where computed tables are kept between runs: ``GAMELM_CACHE_DIR``, else
    ``~/.cache/gamelm``."""
    return Path(os.environ.get("GAMELM_CACHE_DIR", Path.home() / ".cache" / "gamelm"))
