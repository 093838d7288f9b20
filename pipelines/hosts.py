"""Politeness per host (scheme, name and port: robots.txt and rate limits belong to an authority): turns
that start at least a delay apart, a cap on open requests, a pause a server asked for, and a scheduler
that hands work to threads only when its host can take it. The HTTP client (`pipelines.client`) takes a
turn for every request it makes."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Host:
    """What is known of one host: when it may be asked again, how many requests are open, its robots.txt
    rules (None until read; pipelines.robots.Rules), and why it gets no more requests in this run."""

    delay: float
    next_at: float = 0.0
    in_flight: int = 0
    pending: set[int] = field(default_factory=set)  # threads handed its work whose request has not started
    rules: object | None = None
    rules_lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: str | None = None


class Hosts:
    """The turns of every host one client talks to, shared by any number of threads."""

    def __init__(self, *, delay: float, per_host: int):
        self.delay = delay
        self.per_host = max(1, per_host)
        self._hosts: dict[str, Host] = {}
        self._cond = threading.Condition()

    def get(self, key: str) -> Host:
        with self._cond:
            return self._get(key)

    def _get(self, key: str) -> Host:
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = Host(delay=self.delay)
        return host

    def acquire(self, key: str) -> None:
        """Wait for the host's next turn: fewer than per_host requests open and its delay passed."""
        with self._cond:
            host = self._get(key)
            host.pending.discard(threading.get_ident())
            while True:
                now = time.monotonic()
                if host.in_flight < self.per_host and now >= host.next_at:
                    host.in_flight += 1
                    host.next_at = now + host.delay
                    self._cond.notify_all()  # the scheduler may wait on this host's next turn
                    return
                self._cond.wait(None if host.in_flight >= self.per_host else host.next_at - now)

    def release(self, key: str, pause: float = 0.0, retry: bool = False) -> None:
        """End a request; `pause` keeps the whole host waiting that long (a Retry-After, a backoff). With
        `retry`, this thread's next request to the host goes before any new work is handed out for it, so
        a page that waited out a pause is not overtaken by the queue (nor stopped by what that brings)."""
        with self._cond:
            host = self._get(key)
            host.in_flight -= 1
            if pause:
                host.next_at = max(host.next_at, time.monotonic() + pause)
            if retry:
                host.pending.add(threading.get_ident())
            self._cond.notify_all()

    def space(self, key: str, delay: float | None) -> None:
        """Set the host's delay (None keeps it) and make its next turn wait that long from now."""
        with self._cond:
            host = self._get(key)
            if delay is not None:
                host.delay = delay
            host.next_at = max(host.next_at, time.monotonic() + host.delay)
            self._cond.notify_all()

    def stop(self, key: str, reason: str) -> None:
        with self._cond:
            self._get(key).stopped = reason
            self._cond.notify_all()

    def stopped(self, key: str) -> str | None:
        """Why the host takes no more requests in this run (None: it does). A thread that will not ask
        gives up its place in the host's turn."""
        with self._cond:
            host = self._get(key)
            if host.stopped:
                host.pending.discard(threading.get_ident())
                self._cond.notify_all()
            return host.stopped

    def map(self, fn: Callable, items: Sequence, url_of: Callable[[object], str], workers: int) -> list:
        """fn(item) for every item on `workers` threads; the results in the items' order.

        An item is handed to a thread only when its host can take a request: a host with thousands of
        pages or a slow one holds at most `per_host` threads, and the others serve other hosts. Items
        whose URL is not http(s) (local files) are not limited.
        """
        queues: dict[str, deque[int]] = {}
        for i, item in enumerate(items):
            queues.setdefault(authority(url_of(item)), deque()).append(i)
        results: list = [None] * len(items)

        def work() -> None:
            while (job := self._take(queues)) is not None:
                i, key = job
                try:
                    results[i] = fn(items[i])
                finally:
                    if key:
                        with self._cond:
                            self._get(key).pending.discard(threading.get_ident())
                            self._cond.notify_all()

        with ThreadPoolExecutor(max(1, workers)) as pool:
            for f in [pool.submit(work) for _ in range(max(1, min(workers, len(items))))]:
                f.result()
        return results

    def _take(self, queues: dict[str, deque[int]]) -> tuple[int, str] | None:
        me = threading.get_ident()
        with self._cond:
            while True:
                for key in [k for k, q in queues.items() if not q]:
                    del queues[key]
                if not queues:
                    return None
                now, soonest = time.monotonic(), None
                for key, queue in queues.items():
                    if not key:
                        return queue.popleft(), key
                    host = self._get(key)
                    if host.pending or host.in_flight >= self.per_host:
                        continue
                    if host.next_at <= now:
                        # Until this thread's request starts, the host's next turn is not yet taken.
                        host.pending.add(me)
                        return queue.popleft(), key
                    soonest = host.next_at if soonest is None else min(soonest, host.next_at)
                self._cond.wait(None if soonest is None else soonest - now)


def authority(url: str) -> str:
    """scheme://host:port of an http(s) URL, '' for anything else (local files)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ""  # the client refuses it with the reason
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"
