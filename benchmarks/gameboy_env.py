"""Game Boy throughput on the generated test ROM: PyBoy alone, the gamelm environment, the
Crystal reader and the whole hybrid loop.

Usage: python benchmarks/gameboy_env.py [--actions 3000]

No commercial ROM exists here, so everything runs on `gamelm.gameboy.testrom` (it halts until
each vertical blank, as Crystal does, but does less work per frame than a real game: treat the
figures as an upper bound for the emulator's share). Each action is 24 frames (8 pressed), the
default. The reference line is PyBoy itself running the same frames with the same presses and
one rendered frame per action, so the difference is what gamelm adds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gamelm.gameboy import crystal
from gamelm.gameboy.env import BUTTONS, GameBoyEnv, _pyboy
from gamelm.gameboy.hybrid import HybridConfig, HybridRunner
from gamelm.gameboy.testrom import build_test_rom

MOVES = ("right", "down", "left", "up", "a", "b")


def pyboy_alone(rom: bytes, actions: int) -> float:
    PyBoy, _ = _pyboy()
    with contextlib.redirect_stdout(io.StringIO()):
        pb = PyBoy(io.BytesIO(rom), window="null", sound_emulated=False)
    pb.set_emulation_speed(0)
    pb.tick(600, False)
    t = time.perf_counter()
    for i in range(actions):
        pb.button_press(MOVES[i % 6])
        pb.tick(8, False, False)
        pb.button_release(MOVES[i % 6])
        pb.tick(15, False, False)
        pb.tick(1, True, False)
        _ = pb.screen.ndarray
    dt = time.perf_counter() - t
    pb.stop(save=False)
    return actions / dt


def env_steps(path: Path, actions: int, read: bool) -> float:
    with GameBoyEnv(path, allow_any_rom=True) as env:
        t = time.perf_counter()
        for i in range(actions):
            env.step(MOVES[i % 6])
            if read:
                crystal.read_state(env.memory)
        return actions / (time.perf_counter() - t)


def hybrid(path: Path, actions: int, dqn: bool, out: Path) -> float:
    cfg = HybridConfig(rom=str(path), actions=actions, allow_any_rom=True, use_dqn=dqn,
                       llm_url="http://127.0.0.1:9/v1", checkpoint_every=0)  # fmt: skip
    return HybridRunner(cfg, out, log=None).run()["actions_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=3000)
    args = parser.parse_args()
    n = args.actions
    with tempfile.TemporaryDirectory() as folder:
        run(n, Path(folder))


def run(n: int, tmp: Path) -> None:
    import os

    os.environ["GAMELM_RUNS"] = str(tmp / "runs")
    generic, crystal_rom = tmp / "test.gbc", tmp / "crystal" / "test.gbc"
    crystal_rom.parent.mkdir()
    generic.write_bytes(build_test_rom())
    crystal_rom.write_bytes(build_test_rom("PM_CRYSTAL"))
    rows = [
        ("PyBoy alone (reference)", pyboy_alone(generic.read_bytes(), n)),
        ("GameBoyEnv.step (screen 36x40)", env_steps(generic, n, read=False)),
        ("step + crystal.read_state", env_steps(crystal_rom, n, read=True)),
        ("hybrid loop, rules only (--no-dqn)", hybrid(crystal_rom, n, False, tmp / "a")),
        ("hybrid loop with the DQN learning", hybrid(crystal_rom, n, True, tmp / "b")),
    ]
    print(f"{n} actions of 24 frames on the generated ROM; buttons: {', '.join(BUTTONS)}")
    print(f"{'':40} {'actions/s':>10} {'frames/s':>10}")
    for name, rate in rows:
        print(f"{name:40} {rate:10.0f} {rate * 24:10.0f}")


if __name__ == "__main__":
    main()
