"""Worker processes: a function over items, in spawned processes when there are enough items to pay for them."""

from __future__ import annotations

PARALLEL_FROM = 100  # below this many items a second process costs more than it saves


def parallel(fn, items: list, workers: int, minimum: int | None = None, chunksize: int | None = None) -> list:
    """fn over items, in order; in worker processes when there are at least `minimum` items (PARALLEL_FROM,
    read at the call, so one setting governs every stage). Spawned, not forked: the caller may be an
    Airflow task process with threads, where fork can deadlock."""
    minimum = PARALLEL_FROM if minimum is None else minimum
    if workers <= 1 or len(items) < max(minimum, 2):
        return [fn(i) for i in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fn, items, chunksize=chunksize or max(1, len(items) // (workers * 32))))
