"""The tokenizer of the model-free names pipeline (pipelines/names.py): the language's spaCy tokenizer,
with possessives after a name split off ("Lisboa's") and tokens of 100 characters or more kept whole
(spaCy's affix search is quadratic on them). It leaves the text in the doc's user_data for the names
component, which would otherwise rebuild it from every token.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

# The doc's user_data key under which the tokenizer leaves the text (see pipelines/nametext.py).
TEXT_KEY = "newsmon_names_text"
# spaCy's tokenizer is quadratic on long runs of punctuation (30,000 ')' take minutes); no name is this
# long without a space, so such a token is kept whole without being searched for affixes.
LONG_TOKEN = re.compile(r"\S{100,}")


def split_possessives(nlp: Language) -> None:
    """English-style possessives after a name ("Lisboa's", "USA's", "Jens'") as their own token, so the
    name's span ends where the name does."""
    from spacy.util import compile_suffix_regex

    suffixes = [r"(?<=[^\W\d_])['’][sS]?$", *nlp.Defaults.suffixes]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search


class BoundedTokenizer:
    """The language's tokenizer, except that a token of 100 characters or more (no name is one) is kept
    whole instead of being searched for affixes, which is quadratic in spaCy's tokenizer."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.vocab = tokenizer.vocab

    def __call__(self, text: str) -> Doc:
        doc = self._tokenize(text)
        # The names component reads the text once; Doc.text rebuilds it from every token.
        doc.user_data[TEXT_KEY] = text
        return doc

    def _tokenize(self, text: str) -> Doc:
        if not LONG_TOKEN.search(text):
            return self.tokenizer(text)
        words: list[str] = []
        spaces: list[bool] = []
        at = 0
        for m in LONG_TOKEN.finditer(text):
            self._add(text[at:m.start()], words, spaces)
            words.append(m.group())
            spaces.append(False)
            at = m.end()
        self._add(text[at:], words, spaces)
        # A token followed by one space owns it, as spaCy's own tokens do.
        for i in range(len(words) - 1):
            if not spaces[i] and words[i + 1] == " ":
                spaces[i] = True
                words[i + 1] = ""
        keep = [i for i, w in enumerate(words) if w]
        return Doc(self.vocab, words=[words[i] for i in keep], spaces=[spaces[i] for i in keep])

    def _add(self, part: str, words: list[str], spaces: list[bool]) -> None:
        if part:
            for tok in self.tokenizer(part):
                words.append(tok.text)
                spaces.append(bool(tok.whitespace_))

    # spaCy serialises and pipes through these; the rules need nothing else of the tokenizer.
    def pipe(self, texts, batch_size=1000):
        for text in texts:
            yield self(text)

    def to_bytes(self, **kwargs):
        return self.tokenizer.to_bytes(**kwargs)

    def from_bytes(self, data, **kwargs):
        self.tokenizer.from_bytes(data, **kwargs)
        return self

    def to_disk(self, path, **kwargs):
        self.tokenizer.to_disk(path, **kwargs)

    def from_disk(self, path, **kwargs):
        self.tokenizer.from_disk(path, **kwargs)
        return self
