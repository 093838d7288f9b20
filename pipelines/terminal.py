"""What the CLI prints: tables (rich on a terminal, plain when piped), stage progress, sparklines and the
gate line. Every cell is database text from scraped pages, printed as text, never as markup."""

from __future__ import annotations

import csv
import json
import sys
import time
import unicodedata

from pipelines import staging

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    return "".join(SPARK[min(len(SPARK) - 1, round(v / top * (len(SPARK) - 1)))] if top else SPARK[0]
                   for v in values)


class Reporter:
    """Stage progress: a rich bar on a terminal, plain log lines otherwise."""

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()
        self.progress = None
        self.t0 = time.monotonic()
        self.printed: set[str] = set()

    def __enter__(self):
        if self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[info]}"), TimeElapsedColumn(), transient=False)
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=len(staging.STAGES), info="starting")
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()

    def stage_done(self, stage: str, counts: dict) -> None:
        elapsed = time.monotonic() - self.t0
        n = counts.get("extracted", 0)
        info = f"{stage} done · {n} articles · {n / elapsed:.1f} articles/s" if n else f"{stage} done"
        if self.progress:
            self.progress.update(self.task, advance=1, info=info)
        else:
            shown = {k: v for k, v in counts.items() if k != "seconds" and k not in self.printed}
            self.printed |= set(shown)
            took = f" in {counts['seconds']} s" if "seconds" in counts else ""
            print(f"newsmon: {self.label}: {stage} done{took} {json.dumps(shown)}", file=sys.stderr, flush=True)

    def poll(self, folder, done: set[str]) -> None:
        for stage in staging.STAGES:
            counts = None if stage in done else staging.stage_counts(folder, stage)
            if counts is not None:
                done.add(stage)
                self.stage_done(stage, counts)


def gate_line(counts: dict) -> str:
    """What each gate did to the run's articles, so no loss is silent: pages that held no article,
    articles kept from their feed entry, how languages were settled, and the articles left without any
    entity, by why."""
    without = counts.get("no_entities_language_not_analysed", 0) + counts.get("no_entities_none_found", 0)
    return (f"gates: {counts.get('no_article_in_page', 0)} page(s) without an article, "
            f"{counts.get('kept_from_feed_entry', 0)} kept from the feed entry; language identified "
            f"{counts.get('language_identified', 0)}, declared {counts.get('language_declared', 0)}, default "
            f"{counts.get('language_default', 0)}; {without} article(s) without entities "
            f"(language not analysed {counts.get('no_entities_language_not_analysed', 0)}, "
            f"none found {counts.get('no_entities_none_found', 0)}); "
            f"{counts.get('claims_skipped_language', 0)} not English (no claims)")


def table(cols, rows, title: str | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Cells are database text from scraped pages: Text() keeps rich from reading "[bold red]" or
    # "[link=...]" in a title as markup, and _printable keeps escape sequences away from the terminal.
    table = Table(title=Text(printable(title)) if title else None, title_justify="left")
    for c in cols:
        table.add_column(Text(printable(c)))
    for r in rows:
        table.add_row(*[Text("" if v is None else printable(v)) for v in r])
    # On a terminal rich fits the table to the screen; piped output is not wrapped, so it stays greppable.
    Console(width=None if sys.stdout.isatty() else 1000).print(table)


def printable(value) -> str:
    """The text with control characters shown as escapes (\\x1b), so that a title cannot move the cursor,
    retitle the window or write the clipboard of the terminal it is printed on."""
    return "".join(f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" and c not in "\t\n" else c
                   for c in str(value))


def search_report(found: dict, form: str) -> None:
    """What `newsmon search` prints: attention per period with a sparkline, top sources, best stories;
    or the attention rows as CSV, or everything as JSON."""
    rows = found["attention"]
    if form == "csv":
        out = csv.DictWriter(sys.stdout, ["period", "stories", "all_stories", "share"], lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
        return
    if form == "json":
        print(json.dumps(found, default=str, ensure_ascii=False, indent=2))
        return
    hits = sum(r["stories"] for r in rows)
    everything = sum(r["all_stories"] for r in rows)
    share = f"{hits / everything:.1%}" if everything else "0%"
    print(f"{found['query']}: {hits} of {everything} stories ({share}), {found['from']} to {found['to']}, "
          f"per {found['by']}")
    if found["by"] in ("day", "week"):
        print(sparkline([r["stories"] for r in rows]))
    table([found["by"], "stories", "all stories", "share"],
          [(r["period"], r["stories"], r["all_stories"], f"{r['share']:.2%}") for r in rows
           if found["by"] in ("day", "week") or r["stories"]], title="Attention")
    table(["source", "stories"], [(r["source"], r["stories"]) for r in found["sources"]], title="Top sources")
    table(["published", "source", "title", "score", "snippet", "url"],
          [(f"{r['published_at']:%Y-%m-%d}" if r["published_at"] else "", r["source"], r["title"], r["score"],
            r["snippet"], r["url"]) for r in found["stories"]], title="Best-ranked stories")
