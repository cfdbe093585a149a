"""Where tasks run: in this process, on a local process pool, or on any Executor (Dask).

A task is a plain function of picklable arguments; results come back in task order
whatever order the tasks finish in (docs/model.md §2.3).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from typing import Any

from ..kernel.errors import InputError

__all__ = ["executor_for", "map_tasks"]


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
        try:
            from distributed import Client
        except ImportError:
            raise InputError("running on a Dask scheduler needs Dask: pip install "
                             "'retention_sim[dask]'") from None

        with Client(dask) as client:
            yield client.get_executor()
        return
    n = workers or os.cpu_count() or 1
    if tasks <= 1 or n == 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=min(n, tasks)) as pool:
        yield pool


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
