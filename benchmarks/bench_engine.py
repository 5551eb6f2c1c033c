"""Random-play NLHE throughput (hands/s, decisions/s) next to OpenSpiel, RLCard and PokerKit.

Run: .venv/bin/python benchmarks/bench_engine.py --seats 2|6 [--seconds 3] [--json]
"""

import sys

from gamelm.cli import app

if __name__ == "__main__":
    app(["bench", "engine", *sys.argv[1:]])
