"""Seconds for CFR+ to reach 1e-5 chips of exploitability on Leduc: gamelm next to OpenSpiel's
C++ and Python CFR+.

Run: .venv/bin/python benchmarks/bench_cfr.py [--target 1e-5] [--json]
"""

import sys

from gamelm.cli import app

if __name__ == "__main__":
    app(["bench", "cfr", *sys.argv[1:]])
