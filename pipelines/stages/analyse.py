"""The analyse stage: entities, mentions and claims of the deduplicated articles, in worker processes."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from pipelines import alerts, staging, store, workers
from pipelines.settings import Settings

# What the analysis counts beside its rows: short forms kept apart because two full names fit them, and
# articles analysed for entities but outside the languages the claims' rules are written for.
ANALYSIS_NOTES = ("ambiguous_short_forms", "claims_skipped_language")


# Articles per analysis task: small enough that two workers finish together, large enough that
# nlp.pipe batches well.
ANALYSE_CHUNK = 16


def analyse(s: Settings, run: dict, part: int | None = None) -> dict:
    """Entities, mentions and claims for every article in the NLP languages (one NER pass each): English
    with the English model, a language with a pinned spaCy pipeline with that one, any other with the
    model-free recogniser; the entity memory (the corpus's known names) in all of them. With `part`,
    that batch of the deduplicated articles, in this process.

    Every article that ends with no entity is counted by why: its language is not analysed
    (NEWSMON_NLP_LANGUAGES), or it was analysed and named no one."""
    from pipelines import entities

    batch = staging.read_rows(s, run, "articles")
    rows = staging.batch(batch, part, s.batch_size)
    wanted = {x.strip() for x in s.nlp_languages.split(",")}
    analysed = [r for r in rows if "*" in wanted or r["language"] in wanted]
    patterns = alerts.patterns(alerts.load_watchlist(s.watchlist_path))
    names = str(_memory_file(s, run["run_id"], [r["article_id"] for r in batch])) if analysed else None
    processes = s.workers if part is None else 1
    # Each worker process loads the models once and runs the whole analysis of its chunks: NER, the
    # entity layers, geocoding and claims. Only small rows come back, not spaCy Docs, and the main
    # process, idle meanwhile, is no bottleneck beside the workers.
    size = max(1, min(ANALYSE_CHUNK, -(-len(analysed) // max(processes, 1))))
    chunks = [[dict(_analysis_input(r), model=entities.model_for(r["language"], s.spacy_model, s.language_models))
               for r in analysed[i:i + size]] for i in range(0, len(analysed), size)]
    results = workers.parallel(analyse_chunk, [(s.parser_model, patterns, names, c) for c in chunks], processes,
                        minimum=workers.PARALLEL_FROM // size, chunksize=1)
    mention_rows, claim_rows, link_rows, entity_rows = [], [], [], {}
    notes = dict.fromkeys(ANALYSIS_NOTES, 0)
    for res in results:
        mention_rows += res["mentions"]
        claim_rows += res["claims"]
        link_rows += res["claim_entities"]
        for e in res["entities"]:
            entity_rows.setdefault(e["entity_id"], e)
        for k, v in res["notes"].items():
            notes[k] = notes.get(k, 0) + v
    staging.write_rows(s, run, "mentions", mention_rows, part)
    staging.write_rows(s, run, "entities", list(entity_rows.values()), part)
    staging.write_rows(s, run, "claims", claim_rows, part)
    staging.write_rows(s, run, "claim_entities", link_rows, part)
    named = {m["article_id"] for m in mention_rows}
    counts = {"entities": len(entity_rows), "mentions": len(mention_rows), "claims": len(claim_rows),
              "no_entities_language_not_analysed": len(rows) - len(analysed),
              "no_entities_none_found": sum(r["article_id"] not in named for r in analysed), **notes}
    return staging.finish_stage(s, run, "analyse", counts, part=part)


def _memory_file(s: Settings, run_id: str, replaced: list[str]) -> Path:
    """The entity memory for this analysis: the corpus's known names as the database holds them now,
    less the articles this run replaces (read-only: `load` is the one writer), in a file named by its
    content (data/memory/), which each worker loads once. A new name in the database makes a new file."""
    from pipelines import memory

    names: list = []
    if store.exists(s.database):
        import duckdb

        con = store.connect(s.database, read_only=True)
        try:
            names = memory.from_store(con, replaced, run_id)
        except duckdb.CatalogException:  # a database from before migration 006 (read-only opens do not migrate)
            names = []
        finally:
            con.close()
    return memory.write(memory.merge(names), s.data_dir / "memory")


def _analysis_input(r: dict) -> dict:
    return {k: r[k] for k in ("article_id", "text", "title", "site_name", "language")}


def analyse_chunk(args) -> dict:
    """Entities, mentions, claims and claim links of a chunk of articles (picklable for worker processes;
    the models load once per process). Each article goes through its language's pipeline, in order."""
    from pipelines import claims, entities

    parser, patterns, names, arts = args
    out: dict = {"mentions": [], "entities": [], "claims": [], "claim_entities": [],
                 "notes": dict.fromkeys(ANALYSIS_NOTES, 0)}
    docs: dict[int, object] = {}
    for model in dict.fromkeys(r["model"] for r in arts):
        nlp = entities.load_model(model, patterns, names)
        group = [i for i, r in enumerate(arts) if r["model"] == model]
        # Small batches: the speed is the same on articles this long, and a batch of 32 long ones took
        # 200 MB more per worker.
        for i, doc in zip(group, nlp.pipe((entities.normalise(arts[i]["text"]) for i in group), batch_size=4),
                          strict=True):
            docs[i] = doc
    for i, r in enumerate(arts):
        ms, ents = entities.from_doc(r["article_id"], r["text"], docs.pop(i), r["title"], r["site_name"],
                                     out["notes"])
        out["mentions"] += [asdict(m) for m in ms]
        out["entities"] += [asdict(e) for e in ents]
        if r["language"] not in claims.LANGUAGES:
            out["notes"]["claims_skipped_language"] += 1
            continue
        found = claims.extract(r["article_id"], r["text"], ms, parser)
        out["claims"] += [asdict(c) for c in found]
        out["claim_entities"] += claims.links(found, ms)
    return out
