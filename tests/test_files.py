"""Atomic writes leave files and folders with the usual permissions (not mkdtemp's private ones),
so a model exported by one user can be read by another (the Docker image runs as its own)."""

import os

from gamelm.files import atomic_directory, atomic_file


def test_atomic_writes_get_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_directory(tmp_path / "d") as d:
            (d / "x").write_text("x")
        with atomic_file(tmp_path / "f.bin") as f:
            f.unlink()  # a writer that recreates the file (as safetensors does)
            fd = os.open(f, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
    finally:
        os.umask(old)
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o644
