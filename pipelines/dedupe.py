"""One copy per story: exact text hashes and MinHash near-duplicates (syndicated copies), with LSH
banding so a batch is compared with candidates only, not with every stored article."""

from __future__ import annotations

import hashlib
import re

import numpy as np

PERMUTATIONS = 64
BANDS = 16  # 16 bands of 4 rows: pairs above about 0.5 Jaccard almost always share a band
SHINGLE = 5
THRESHOLD = 0.6
_PRIME = np.uint64((1 << 31) - 1)
_rng = np.random.default_rng(20261126)  # fixed: signatures must agree across runs and processes
_A = _rng.integers(1, (1 << 31) - 1, PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, (1 << 31) - 1, PERMUTATIONS, dtype=np.uint64)


def content_hash(text: str) -> str:
    """Hash of the text with case, punctuation and spacing folded: the same story re-encoded hashes alike."""
    return hashlib.sha256(" ".join(_words(text)).encode()).hexdigest()


def minhash(text: str) -> list[int]:
    """A MinHash signature over word 5-shingles; two signatures agree in about Jaccard(a, b) of places."""
    words = _words(text)
    shingles = {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    x = np.fromiter((int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "little")
                     for s in shingles), dtype=np.uint64, count=len(shingles)) % _PRIME
    # (a*x + b) mod p with a, x < 2^31: the product fits in 64 bits, so numpy computes it exactly.
    return ((x[:, None] * _A + _B) % _PRIME).min(axis=0).tolist()


def similarity(a: list[int], b: list[int]) -> float:
    if not a or not b or len(a) != len(b):
        return 0.0
    return float(np.mean(np.asarray(a, dtype=np.uint64) == np.asarray(b, dtype=np.uint64)))


def find_duplicates(batch: list[dict], stored: list[dict]) -> dict[str, str]:
    """article_id -> the id of the first copy, for each batch article that repeats an earlier one.

    Args:
        batch: this run's articles (article_id, published_at, content_hash, minhash).
        stored: articles already in the database that the batch may repeat (same fields, duplicate_of).

    The first copy is the earliest published (ties: the smaller id); a copy of a copy points at the first.
    """
    def order(a):
        return (a["published_at"] is None, str(a["published_at"] or ""), a["article_id"])

    by_hash: dict[str, list[dict]] = {}
    buckets: dict[tuple, list[dict]] = {}

    def remember(art: dict) -> None:
        by_hash.setdefault(art["content_hash"], []).append(art)
        for key in _bands(art["minhash"]):
            buckets.setdefault(key, []).append(art)

    for s in stored:
        if not s.get("duplicate_of"):
            remember(s)
    out: dict[str, str] = {}
    for art in sorted(batch, key=order):
        mine = order(art)
        first = min((s for s in by_hash.get(art["content_hash"], []) if order(s) <= mine), key=order, default=None)
        if first is None:
            candidates = {s["article_id"]: s for key in _bands(art["minhash"]) for s in buckets.get(key, [])
                          if order(s) <= mine}
            scored = sorted(((similarity(art["minhash"], s["minhash"]), order(s), s) for s in candidates.values()),
                            key=lambda t: (-t[0], t[1]))
            first = scored[0][2] if scored and scored[0][0] >= THRESHOLD else None
        if first is not None:
            out[art["article_id"]] = first["article_id"]
        else:
            remember(art)
    return out


def _bands(signature: list[int]) -> list[tuple]:
    if not signature:
        return []
    rows = len(signature) // BANDS
    return [(i, *signature[i * rows:(i + 1) * rows]) for i in range(BANDS)]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())
