"""bb/100 (95% CI) of every baseline against every other, heads-up and 6-max, duplicate dealing.

Row agent = hero; in 6-max the column agent fills the other five seats.
Usage: python benchmarks/baseline_table.py [--hands 3000] [--seed 1] [--agents a,b,...]
"""

from __future__ import annotations

import argparse
import time

from gamelm.agents.registry import make_agent
from gamelm.evaluation.match import MatchConfig, play_match
from gamelm.evaluation.metrics import agent_win_rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hands", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--agents", default="random,calling-station,maniac,tag,equity,exploit:tag")
    args = ap.parse_args()
    names = args.agents.split(",")
    for seats in (2, 6):
        t0 = time.perf_counter()
        print(f"\n{seats}-seat, {args.hands} hands per cell, duplicate, seed {args.seed}")
        print("| hero \\ vs | " + " | ".join(names) + " |")
        print("|---|" + "---:|" * len(names))
        for hero in names:
            cells = []
            for opp in names:
                if opp == hero:
                    cells.append("-")
                    continue
                cfg = MatchConfig(seats=seats, hands=args.hands, seed=args.seed)
                res = play_match([make_agent(hero), make_agent(opp)], cfg)
                w = next(iter(agent_win_rates(res).values()))
                cells.append(f"{w.bb_per_100:+.0f} [{w.ci95[0]:+.0f}, {w.ci95[1]:+.0f}]")
            print(f"| {hero} | " + " | ".join(cells) + " |", flush=True)
        print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
