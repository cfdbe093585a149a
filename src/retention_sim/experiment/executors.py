"""Where tasks run: in this process, on a local process pool, or on any Executor (Dask).

A task is a plain function of picklable arguments; results come back in task order
whatever order the tasks finish in (docs/model.md §2.3).

The workers of a local pool never outlive the process that started them: each asks the
kernel to kill it when its parent dies (Linux ``PR_SET_PDEATHSIG``; elsewhere a thread
watches the parent's pid), so even ``kill -9`` of the parent leaves no worker behind
holding memory and the caller's pipes.  They ignore SIGINT (the parent handles Ctrl-C
for the whole job), and when the job fails or is interrupted the parent terminates them
instead of waiting for their tasks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any

from ..kernel.errors import InputError

__all__ = ["executor_for", "map_tasks", "worker_init", "DASK_CONNECT_SECONDS"]

#: how long to try to reach a Dask scheduler before giving up
DASK_CONNECT_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def worker_init(parent: int) -> None:
    """Initializer of a pool worker: die with the parent ``parent`` (pid), leave SIGINT
    to the parent and SIGTERM to its default (end at once)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):  # pragma: no cover
            armed = False
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    if not armed:  # pragma: no cover - not Linux
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool at once: cancel what has not started, kill what runs."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        with contextlib.suppress(Exception):
            p.kill()
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(timeout=5)


@contextlib.contextmanager
def _dask_client(address: str) -> Iterator[Any]:
    try:
        from distributed import Client
    except ImportError:
        raise InputError("running on a Dask scheduler needs Dask: pip install "
                         "'retention_sim[dask]'") from None
    try:
        client = Client(address, timeout=DASK_CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address!r} within "
                         f"{DASK_CONNECT_SECONDS:g} s ({type(exc).__name__}); check the address "
                         "(e.g. tcp://host:8786) and that the scheduler is running") from None
    except ValueError as exc:
        raise InputError(f"--dask {address!r} is not a scheduler address such as "
                         f"tcp://host:8786 ({exc})") from None
    with client:
        yield client


@contextlib.contextmanager
def executor_for(executor: Executor | None = None, workers: int | None = None,
                 dask: str | None = None, tasks: int = 2) -> Iterator[Executor | None]:
    """The executor to run ``tasks`` tasks on (None = run in this process).

    ``executor`` is used as given (and not shut down); ``dask`` is the address of a Dask
    scheduler; otherwise a local process pool of ``workers`` processes (default: all
    CPUs), or in-process for one task or one worker.
    """
    if executor is not None:
        yield executor
        return
    if dask is not None:
        with _dask_client(dask) as client:
            yield client.get_executor()
        return
    n = workers or os.cpu_count() or 1
    if tasks <= 1 or n == 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=min(n, tasks), initializer=worker_init,
                               initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        _terminate(pool)
        raise
    pool.shutdown(wait=True)


def map_tasks(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]], executor: Executor | None,
              on_done: Callable[[int, Any], None] | None = None) -> list[Any]:
    """``[fn(*a) for a in args]`` on ``executor``; ``on_done(i, result)`` as each finishes."""
    results: list[Any] = [None] * len(args)
    if executor is None:
        for i, a in enumerate(args):
            results[i] = fn(*a)
            if on_done:
                on_done(i, results[i])
        return results
    futures = {executor.submit(fn, *a): i for i, a in enumerate(args)}
    for fut in as_completed(futures):
        i = futures[fut]
        results[i] = fut.result()
        if on_done:
            on_done(i, results[i])
    return results
