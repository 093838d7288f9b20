"""The fetch stage on 500 real news pages served by 20 loopback hosts, with and without connection reuse.

    .venv/bin/python benchmarks/fetch.py [--pages 500] [--hosts 20] [--repeat 3] [--host-delay 0]

The pages are those of benchmarks/pipeline.py (../shared/fixtures and trafilatura's evaluation set), cycled
to --pages and dealt out over --hosts HTTP/1.1 servers on 127.0.0.1 (in a process of their own), each
answering robots.txt with an allow-all file. Each arm runs the fetch stage (`pipelines/stages/fetch.py`) as
`newsmon ingest` does (candidates in, stored raw pages and fetch_log out) and prints pages/s, the TCP
connections the servers accepted, and the pages fetched and failed. Arms: keep-alive (the default) and
NEWSMON_KEEP_ALIVE=false, which sends `Connection: close` so every request opens its own connection. A code
base without that setting (the client before urllib3) runs the one arm it has, which opens a connection per
request.
With --host-delay 0 (the default here) the stage runs as fast as the client allows; the shipped 1 s
delay makes every arm take about pages-per-host seconds and measures politeness, not the client.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.pipeline import pages as news_pages  # noqa: E402
from pipelines import run, runs  # noqa: E402

try:
    from pipelines.stages.fetch import fetch_stage  # noqa: E402
    from pipelines.staging import write_rows  # noqa: E402
except ImportError:  # a code base before pipelines/stages/ (the "before" runs of the README's tables)
    fetch_stage, write_rows = run.fetch_stage, run._write_rows
from pipelines.models import Candidate  # noqa: E402
from pipelines.settings import Settings  # noqa: E402


class Host:
    """One loopback HTTP/1.1 server with its share of the pages; counts the connections it accepts in
    `counter` (shared memory: the servers run in a process of their own, so that they do not compete
    with the client for one interpreter lock)."""

    def __init__(self, bodies: dict[str, bytes], counter, port_out, index: int):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # As production servers do (nginx's tcp_nodelay): with Nagle on, the body, written after the
            # headers, waits for the client's delayed ACK, and every request costs 40 ms on loopback.
            disable_nagle_algorithm = True

            def setup(self):
                with counter.get_lock():
                    counter[index] += 1
                super().setup()

            def do_GET(self):  # noqa: N802
                body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else bodies.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        port_out[index] = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def serve(shares: list[dict[str, bytes]], counter, ports, ready) -> None:
    for i, share in enumerate(shares):
        Host(share, counter, ports, i)
    ready.set()
    threading.Event().wait()  # until the parent terminates this process


def one_arm(settings: Settings, counter, urls: list[str]) -> dict:
    with counter.get_lock():
        for i in range(len(counter)):
            counter[i] = 0
    ref = runs.new_run(settings, "ingest", scope=f"fetch benchmark {time.monotonic_ns()}")
    write_rows(ref, "candidates", [asdict(Candidate(u, "bench", local=True)) for u in urls])
    started = time.perf_counter()
    counts = fetch_stage(settings, ref)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "pages_per_s": len(urls) / seconds, "fetched": counts["fetched"],
            "failed": counts["fetch_failed"], "connections": sum(counter)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--host-delay", type=float, default=0.0)
    args = ap.parse_args()

    corpus = news_pages(None)
    if not corpus:
        sys.exit("no pages: ../shared/fixtures and ../shared/eval are absent")
    shares: list[dict[str, bytes]] = [{} for _ in range(args.hosts)]
    for i in range(args.pages):
        shares[i % args.hosts][f"/story-{i}.html"] = corpus[i % len(corpus)]
    counter, ports, ready = mp.Array("i", args.hosts), mp.Array("i", args.hosts), mp.Event()
    servers = mp.Process(target=serve, args=(shares, counter, ports, ready), daemon=True)
    servers.start()
    ready.wait()
    urls = [f"http://127.0.0.1:{port}{path}" for port, share in zip(ports, shares, strict=True) for path in share]
    arms = {"keep-alive": {"keep_alive": True}, "no reuse": {"keep_alive": False}}
    if "keep_alive" not in {f.name for f in dataclasses.fields(Settings)}:
        arms = {"connection per request (no keep-alive setting)": {}}

    print(f"fetch stage: {len(urls)} pages ({len(corpus)} distinct) from {args.hosts} loopback hosts "
          f"(served by another process), host delay {args.host_delay:g} s, best and median of {args.repeat}")
    print(f"{'arm':<48} {'pages/s':>9} {'median':>9} {'connections':>12} {'fetched':>8} {'failed':>7}")
    for name, change in arms.items():
        results = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                s = Settings.from_env({"NEWSMON_DATA_DIR": tmp, "NEWSMON_HOST_DELAY": str(args.host_delay)})
                results.append(one_arm(dataclasses.replace(s, **change), counter, urls))
        best = max(results, key=lambda r: r["pages_per_s"])
        print(f"{name:<48} {best['pages_per_s']:>9.1f} {statistics.median(r['pages_per_s'] for r in results):>9.1f} "
              f"{best['connections']:>12} {best['fetched']:>8} {best['failed']:>7}")
    servers.terminate()


if __name__ == "__main__":
    main()
