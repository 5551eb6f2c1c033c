"""Run one picklable function over a list of jobs on worker processes of this machine
(`ProcessPool`) or as tasks on a Ray cluster (`RayPool`). Used by the PPO rollout workers and the
blueprint solver."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any


class ProcessPool:
    """``n`` spawned worker processes (one numpy/torch thread each) running ``fn``."""

    def __init__(self, n: int, fn: Callable[[Any], Any]) -> None:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.n = n
        self.fn = fn
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        self._pool = ProcessPoolExecutor(n, mp_context=mp.get_context("spawn"))

    def run(self, jobs: list[Any]) -> list[Any]:
        return list(self._pool.map(self.fn, jobs))

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class RayPool:
    """``fn`` as Ray tasks (``address`` as for ``ray.init``: ``auto``, ``ray://host:10001``, or
    ``local`` to start Ray on this machine with ``n`` CPUs)."""

    def __init__(self, n: int, address: str, fn: Callable[[Any], Any]) -> None:
        try:
            import ray
        except ImportError:
            raise ValueError("--ray-address needs Ray: pip install 'gamelm[distributed]'") from None
        self.n = n
        self._ray = ray
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address == "local":
                kwargs["num_cpus"] = max(n, 1)
            else:
                kwargs["address"] = address
                check_reachable(address)
            try:
                ray.init(**kwargs)
            except Exception as exc:  # Ray raises several kinds; the user needs one sentence
                raise ValueError(f"cannot start or reach Ray at {address!r}: {exc}") from None
        self._task = ray.remote(num_cpus=1)(fn)

    def run(self, jobs: list[Any]) -> list[Any]:
        return self._ray.get([self._task.remote(job) for job in jobs])

    def close(self) -> None:  # the cluster is the user's; a local one ends with the process
        pass


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds, not after Ray's minutes of retries, when a ``host:port`` address (or
    ``ray://host:port``) does not answer."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms: Ray resolves them itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ValueError(f"cannot reach Ray at {address!r}: {exc.strerror or exc}") from None
