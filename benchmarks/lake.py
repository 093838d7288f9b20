"""The DuckLake backend against the DuckDB file, on the synthetic database of benchmarks/queries.py: the
analysts' views, a daily load of 1,000 articles into each, and two loads at once into the lake against
one.

    nice .venv/bin/python benchmarks/lake.py [--articles 1000000] [--repeat 7] [--loads 3] [--s3]

Builds the file (queries.build: N articles, 10 mentions and a quote each, the marts, the search index),
then a lake on the local PostgreSQL (a catalog database of its own, dropped at the end) with its data in a
folder, or with --s3 on the S3 server of the tests (moto, from .venv-s3, on loopback), and copies every
table into it. Then:

1. each view's typical query (queries.QUERIES): p50 of --repeat runs after a warm-up, on the file (read
   only) and on the lake (attached read-only), side by side. Goal: the lake within 2x of the file;
2. a daily load (store.load_run of 1,000 new articles with their mentions, claims and entities, and the
   watchlist evaluated in the transaction) into each: the median of --loads days;
3. two such loads of different days at once, from two processes, against one alone: articles loaded
   per second. Goal: at least 1.5x the throughput of one. Printed beside it: the same two loads, each
   into a lake of its own (a second copy), where nothing is shared and nothing waits: what two loads at
   once can reach on this machine at all.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import queries  # noqa: E402

from pipelines import lake, store  # noqa: E402

PG = "host=127.0.0.1 port=5432 user=postgres"
GOAL_VIEWS = 2.0
GOAL_CONCURRENT = 1.5


def admin(sql: str) -> None:
    import psycopg2

    con = psycopg2.connect(f"{PG} dbname=postgres")
    con.autocommit = True
    try:
        con.cursor().execute(sql)
    finally:
        con.close()


def copy_into(target: lake.Lake, source: Path) -> dict[str, int]:
    """Every table of the file into the (migrated, empty) lake, in one transaction; rows per table."""
    con = store.connect(target)
    con.execute(f"attach '{source}' as source (read_only)")
    tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = 'source' "
                                        "and schema_name = 'main' and table_name <> 'schema_version'").fetchall()]
    con.begin()
    copied = {}
    for t in tables:
        con.execute(f"delete from {t}")
        cols = ", ".join(r[0] for r in con.execute(
            "select column_name from duckdb_columns() where database_name = 'source' and table_name = $t "
            "order by column_index", {"t": t}).fetchall())
        copied[t] = con.execute(f"insert into {t} ({cols}) select {cols} from source.main.{t}").fetchone()[0]
    con.commit()
    con.close()
    return copied


def view_times(target, repeat: int) -> dict[str, float]:
    con = store.connect(target, read_only=True)
    out = {}
    for view, sql in queries.QUERIES.items():
        con.execute(sql).fetchall()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            times.append(time.perf_counter() - t)
        out[view] = statistics.median(times)
    con.close()
    return out


def one_load(target, day: int, tmp: str) -> float:
    """A day's 1,000 articles loaded into the target; the seconds store.load_run took."""
    con = store.connect(target)
    run = f"lake-bench-day-{day}"
    frames = queries.day_batch(con, 20_000_000 + 1000 * day, run)
    took = queries.load_day(con, frames, run, Path(tmp) / f"watchlist-{day}.yaml")["seconds"]
    con.close()
    return took


def _load_at(target, day: int, tmp: str, start: float) -> tuple[float, float, dict]:
    """In a process of its own: build the day's batch, wait for the common start, load it; when it began
    and ended, and what the load returned (attempts, seconds waited for the writer lock)."""
    con = store.connect(target)
    run = f"lake-bench-day-{day}"
    frames = queries.day_batch(con, 20_000_000 + 1000 * day, run)
    time.sleep(max(0.0, start - time.time()))
    began = time.time()
    out = queries.load_day(con, frames, run, Path(tmp) / f"watchlist-{day}.yaml")
    con.close()
    return began, began + out["seconds"], out


def concurrent(loads: list[tuple[object, int]], tmp: str) -> tuple[float, list[dict]]:
    """These (target, day) loads at once, a process each; the wall time from the first start to the last
    end, and what each load returned."""
    ctx = multiprocessing.get_context("spawn")
    start = time.time() + 15  # after every process has connected and built its batch
    with ctx.Pool(len(loads)) as pool:
        spans = pool.starmap(_load_at, [(target, d, tmp, start) for target, d in loads])
    return max(e for _, e, _ in spans) - min(b for b, _, _ in spans), [out for _, _, out in spans]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--loads", type=int, default=3, help="days loaded into each, and pairs of concurrent loads")
    ap.add_argument("--s3", action="store_true", help="the lake's data on the tests' S3 server (moto) on loopback")
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, duckdb {__import__('duckdb').__version__}", flush=True)
    catalog, apart = f"newsmon_bench_{uuid.uuid4().hex[:8]}", f"newsmon_bench_{uuid.uuid4().hex[:8]}"
    admin(f"create database {catalog}")
    admin(f"create database {apart}")
    moto = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            data, s3 = str(Path(tmp) / "lake"), None
            if args.s3:
                moto, s3 = start_moto(Path(tmp))
                data = "s3://newsmon/lake/"
            target = lake.Lake(f"{PG} dbname={catalog}", data, s3)
            file = Path(tmp) / "file.duckdb"
            t0 = time.perf_counter()
            queries.build(file, args.articles, 10)
            store.connect(file).close()  # indexed for search, as a load would have done
            built = time.perf_counter() - t0
            t0 = time.perf_counter()
            copied = copy_into(target, file)
            print(f"file: {args.articles:,} articles, {copied['mentions']:,} mentions, built in {built:.0f} s; "
                  f"copied into the lake ({data}) in {time.perf_counter() - t0:.0f} s", flush=True)

            file_views, lake_views = view_times(file, args.repeat), view_times(target, args.repeat)
            print(f"\nviews: p50 of {args.repeat} runs after a warm-up, read-only connections")
            print(f"{'view':22} {'file s':>8} {'lake s':>8} {'lake/file':>9}")
            for view in queries.QUERIES:
                print(f"{view:22} {file_views[view]:8.3f} {lake_views[view]:8.3f} "
                      f"{lake_views[view] / file_views[view]:9.2f}")
            ratios = {v: lake_views[v] / file_views[v] for v in queries.QUERIES}
            over = [v for v, r in ratios.items() if r > GOAL_VIEWS]
            print(f"median ratio {statistics.median(ratios.values()):.2f}, worst {max(ratios.values()):.2f}; goal: "
                  f"within {GOAL_VIEWS:g}x: {'ok for every view' if not over else 'OVER for ' + ', '.join(over)}")

            loads = {"file": [], "lake": []}
            for day in range(args.loads):  # alternating, to spread the machine's drift over both
                loads["file"].append(one_load(file, day, tmp))
                loads["lake"].append(one_load(target, day, tmp))
            print(f"\ndaily load of 1,000 articles (store.load_run with the watchlist; median of {args.loads})")
            for name in ("file", "lake"):
                print(f"  into the {name}: {statistics.median(loads[name]):.3f} s")

            # A second lake holding the same, for two loads that share nothing.
            other = lake.Lake(f"{PG} dbname={apart}", data + "-apart" if not args.s3 else "s3://newsmon/apart/", s3)
            copy_into(other, file)
            alone, pairs, separate = [], [], []
            for k in range(args.loads):
                base = 100 + 5 * k
                alone.append(concurrent([(target, base)], tmp)[0])
                pairs.append(concurrent([(target, base + 1), (target, base + 2)], tmp))
                separate.append(concurrent([(target, base + 3), (other, base + 4)], tmp)[0])
            one = 1000 / statistics.median(alone)
            two = 2000 / statistics.median(t for t, _ in pairs)
            ceiling = 2000 / statistics.median(separate)
            outs = [o for _, pair in pairs for o in pair]
            print(f"\nconcurrent loads (processes of their own; median of {args.loads})")
            print(f"  one load alone:             {statistics.median(alone):.3f} s, {one:,.0f} articles/s")
            print(f"  two at once into the lake:  {statistics.median(t for t, _ in pairs):.3f} s for both, "
                  f"{two:,.0f} articles/s, {two / one:.2f}x of one; goal {GOAL_CONCURRENT:g}x "
                  f"({'ok' if two / one >= GOAL_CONCURRENT else 'UNDER'})")
            print(f"    attempts per load {[o['attempts'] for o in outs]}, "
                  f"seconds waited for the writer lock {[round(o['lock_wait'], 2) for o in outs]}")
            print(f"  two at once, a lake each:   {statistics.median(separate):.3f} s for both, {ceiling:,.0f} "
                  f"articles/s, {ceiling / one:.2f}x of one (nothing shared: this machine's ceiling)")
    finally:
        if moto:
            moto.terminate()
        admin(f"drop database if exists {catalog} with (force)")
        admin(f"drop database if exists {apart} with (force)")


def start_moto(folder: Path):
    """The tests' S3 server (moto, from .venv-s3) on a free loopback port, with a bucket `newsmon`."""
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    binary = Path(__file__).resolve().parents[1] / ".venv-s3" / "bin" / "moto_server"
    proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/newsmon", method="PUT"),
                                   timeout=2).close()
            break
        except OSError:
            time.sleep(0.2)
    return proc, lake.S3(f"http://127.0.0.1:{port}", "us-east-1", "bench", "bench")


if __name__ == "__main__":
    main()
