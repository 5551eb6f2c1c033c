"""7-card evaluation throughput: gamelm next to phevaluator, eval7, treys and PokerKit.

Run: .venv/bin/python benchmarks/bench_evaluator.py [--seconds 2] [--json]
"""

import sys

from gamelm.cli import app

if __name__ == "__main__":
    app(["bench", "evaluator", *sys.argv[1:]])
