"""One copy per story: exact text hashes and MinHash near-duplicates (syndicated copies)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

PERMUTATIONS = 64
SHINGLE = 5
THRESHOLD = 0.6
_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20261126)  # fixed: signatures must agree across runs and processes
_A = _rng.integers(1, _PRIME, PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, PERMUTATIONS, dtype=np.uint64)


def content_hash(text: str) -> str:
    """Hash of the text with case, punctuation and spacing folded: the same story re-encoded hashes alike."""
    return hashlib.sha256(" ".join(_words(text)).encode()).hexdigest()


def minhash(text: str) -> list[int]:
    """A MinHash signature over word 5-shingles; two signatures agree in about Jaccard(a, b) of places."""
    words = _words(text)
    shingles = {" ".join(words[i:i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}
    hashes = np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little") >> 3
                       for s in shingles], dtype=np.uint64)
    # (a*x + b) mod p in exact integer arithmetic: object arrays avoid uint64 overflow.
    values = (hashes.astype(object)[:, None] * _A.astype(object) + _B.astype(object)) % _PRIME
    return [int(v) for v in values.min(axis=0)]


def similarity(a: list[int], b: list[int]) -> float:
    if not a or not b:
        return 0.0
    return float(np.mean(np.array(a, dtype=np.uint64) == np.array(b, dtype=np.uint64)))


def find_duplicates(batch: list[dict], stored: list[dict]) -> dict[str, str]:
    """article_id -> the id of the first copy, for each batch article that repeats an earlier one.

    Args:
        batch: this run's articles (article_id, published_at, content_hash, minhash).
        stored: articles already in the database that the batch may repeat (same fields, duplicate_of).

    The first copy is the earliest published (ties: the smaller id); a copy of a copy points at the first.
    """
    def order(a):
        return (a["published_at"] is None, str(a["published_at"] or ""), a["article_id"])

    seen: list[dict] = [s for s in stored if not s.get("duplicate_of")]
    out: dict[str, str] = {}
    for art in sorted(batch, key=order):
        earlier = [s for s in seen if order(s) <= order(art)]
        first = next((s for s in earlier if s["content_hash"] == art["content_hash"]), None)
        if first is None:
            scored = [(similarity(art["minhash"], s["minhash"]), s) for s in earlier]
            best = max(scored, key=lambda t: t[0], default=(0.0, None))
            first = best[1] if best[0] >= THRESHOLD else None
        if first is not None:
            out[art["article_id"]] = first["article_id"]
        else:
            seen.append(art)
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())
