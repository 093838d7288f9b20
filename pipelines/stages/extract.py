"""The extract stage: the main text and metadata of every fetched item, its language settled."""

from __future__ import annotations

from pipelines import dedupe, extract, fetch, language, runs, staging, workers
from pipelines.models import LogRecord, article_id
from pipelines.settings import Settings

# How an article's language was settled (language.Identified.origin), each counted by the extract stage.
LANGUAGE_ORIGINS = ("identified", "declared", "default")


def extract_stage(s: Settings, run: dict, part: int | None = None) -> dict:
    """Main text and metadata of every fetched item; an item we cannot read is logged with its reason.
    With `part`, the items fetched by that batch, in this process (the DAG's workers are the parallelism)."""
    rows, logs = [], []
    earliest = runs.window(s, run).earliest
    fetched = staging.read_rows(s, run, "fetched", part)
    processes = s.workers if part is None else 1
    for f, row in zip(fetched, workers.parallel(extract_one, [(s, run, f) for f in fetched], processes), strict=True):
        if isinstance(row, LogRecord):
            logs.append(row)
            continue
        if earliest and row["published_at"] and row["published_at"] < earliest:
            # The feed listed it as new, but the page dates it before this run's window: an old story.
            logs.append(LogRecord(f["source"], f["url"], "extract",
                                  f"published {row['published_at']:%Y-%m-%d}, before the run's window"))
            continue
        rows.append(row)
    unique = staging.first_per_article(rows)  # one URL listed by two sources is one article
    staging.write_rows(s, run, "articles", unique, part)
    counts = {"extracted": len(unique), "extract_failed": len(logs),
              # The gate an HTML page passes only if it holds an article (extract.MIN_WORDS).
              "no_article_in_page": sum(x.reason.startswith("no article in the page") for x in logs),
              "kept_from_feed_entry": sum(bool(r.get("from_feed_entry")) for r in unique),
              # How each article's language was settled: identified from its text, or (the identifier
              # unsure) the source's declared language, or the configured default.
              **{f"language_{o}": sum(r["language_origin"] == o for r in unique) for o in LANGUAGE_ORIGINS}}
    return staging.finish_stage(s, run, "extract", counts, logs, part)


def extract_one(args) -> dict | LogRecord:
    """One fetched item to an article row, or the failure record saying why it has none (picklable for
    worker processes).
    An item whose page holds no article but whose feed entry had text becomes the article of that text."""
    s, run, f = args
    try:
        row = _article_row(s, run, f)
        return dict(row, from_feed_entry=True) if f["raw_sha256"] == f.get("summary_sha256") else row
    except extract.ExtractionError as exc:
        if f.get("summary_sha256") and f["summary_sha256"] != f["raw_sha256"]:
            try:
                return dict(_article_row(s, run, dict(f, raw_sha256=f["summary_sha256"], kind="json",
                                                      charset=None)), raw_sha256=f["raw_sha256"],
                            from_feed_entry=True)
            except extract.ExtractionError:
                pass
        return LogRecord(f["source"], f["url"], "extract", str(exc))


def _article_row(s: Settings, run: dict, f: dict) -> dict:
    body = fetch.load_raw(s.raw, f["raw_sha256"])
    published = runs.as_datetime(f["feed_published"]) if f.get("feed_published") else None
    if f["kind"] == "html":
        # Decoded with the charset fetch settled on: trafilatura ignores the declared one and guesses
        # wrong on short Latin-1 pages (it reads valid UTF-8 right by itself).
        charset = f.get("charset")
        html = body.decode(charset, "replace") if charset and charset != "utf-8" else body
        art = extract.from_html(html, f["url"], published)
    else:
        charset = f.get("charset")
        try:
            # A text served over HTTP in another charset has it from fetch; a local file must be UTF-8.
            raw = body.decode(charset, "replace") if charset not in (None, "utf-8") else body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise extract.ExtractionError(f"not UTF-8 text: invalid byte at position {exc.start}") from exc
        art = extract.from_json(raw, f["url"]) if f["kind"] == "json" else extract.from_text(raw, f["url"], published)
    lang = language.identify(art.text, declared=f.get("language"), default=s.default_language)
    return {
        "article_id": article_id(f["url"]), "url": f["url"], "source": f["source"],
        "title": art.title or f.get("feed_title"), "published_at": art.published_at, "date_origin": art.date_origin,
        "language": lang.language, "text": art.text, "word_count": extract.word_count(art.text),
        "author": art.author, "site_name": art.site_name, "content_hash": dedupe.content_hash(art.text),
        "minhash": dedupe.minhash(art.text), "duplicate_of": None, "raw_sha256": f["raw_sha256"],
        "fetched_at": runs.as_datetime(f["fetched_at"]), "run_id": run["run_id"], "language_origin": lang.origin,
    }
