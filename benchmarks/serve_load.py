"""Throughput and latency of `gamelm serve`: POST /v1/act from concurrent clients.

Usage: python benchmarks/serve_load.py [--requests 2000] [--clients 16] [--agent tag]

Starts ``gamelm serve AGENT`` in its own process on loopback, sends the requests from this one
(each answer checked) and prints requests/s and the latency percentiles. There is no reference
poker server to compare with; the line for the random agent (its policy is one numpy call)
shows what the rules replay, the observation and the HTTP stack cost without a real policy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import socket
import subprocess
import time
import urllib.request

from gamelm.bench.load import run_load


def serve(spec: str):
    """``gamelm serve SPEC`` on a free port; returns the process and its URL once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("gamelm")
    proc = subprocess.Popen([str(exe), "serve", spec, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"gamelm serve {spec} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--agent", default="tag")
    args = parser.parse_args()
    for spec in dict.fromkeys([args.agent, "random"]):
        proc, url = serve(spec)
        try:
            run_load(url, requests=100, clients=4)  # warm up
            result = run_load(url, requests=args.requests, clients=args.clients)
        finally:
            proc.terminate()
            proc.wait()
        print(f"{spec:>10}: {result.line()}")


if __name__ == "__main__":
    main()
