import pytest

from gamelm.gameboy.testrom import build_test_rom


@pytest.fixture
def make_rom(tmp_path):
    """Write the generated test ROM (with ``title``) into its own folder; returns its path."""

    def make(title: str = "GAMELM TEST", name: str = "game.gbc"):
        folder = tmp_path / f"rom-{title.replace(' ', '_')}"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_bytes(build_test_rom(title))
        return path

    return make
