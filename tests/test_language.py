import time

import pytest

from pipelines import language
from pipelines.language import Identified, identify

PARAGRAPHS = {
    "en": "The city council voted on Tuesday to close the old harbour bridge for repairs, after engineers warned "
          "that the steel supports had corroded faster than expected.",
    "de": "Der Stadtrat hat am Dienstag beschlossen, die alte Hafenbrücke für Reparaturen zu sperren, nachdem "
          "Ingenieure gewarnt hatten, dass die Stahlträger schneller gerostet seien als erwartet.",
    "fr": "Le conseil municipal a voté mardi la fermeture du vieux pont du port pour des travaux, après que des "
          "ingénieurs ont averti que les supports en acier avaient rouillé plus vite que prévu.",
    "pt": "A câmara municipal votou na terça-feira o encerramento da velha ponte do porto para obras, depois de os "
          "engenheiros terem avisado que os suportes de aço se tinham corroído mais depressa do que o previsto.",
    "sv": "Kommunfullmäktige röstade på tisdagen för att stänga den gamla hamnbron för reparationer, sedan "
          "ingenjörer varnat för att stålbalkarna hade rostat snabbare än väntat.",
    "da": "Byrådet stemte tirsdag for at lukke den gamle havnebro for reparationer, efter at ingeniørerne havde "
          "advaret om, at stålbjælkerne var rustet hurtigere end ventet.",
    "ru": "Городской совет во вторник проголосовал за закрытие старого портового моста на ремонт после того, как "
          "инженеры предупредили, что стальные опоры проржавели быстрее, чем ожидалось.",
}
NUMBER_TABLE = "\n".join(f"{i}\t{i * 3.7:.2f}\t{i * i % 97}\t{i % 13}\t{i * 11}" for i in range(1000))  # 5,000
SPORTS_RESULTS = ("Bayern Munich 3 Hamburg 1\nBorussia Dortmund 2 Schalke 04 0\nWerder Bremen 1 VfB Stuttgart 1\n"
                  "Bayer Leverkusen 4 Freiburg 2\nEintracht Frankfurt 0 Hertha Berlin 0\n")
DATELINE = "STOCKHOLM, 24 November 2026 (Reuters) -"
UNSURE = {"number table": NUMBER_TABLE, "sports results": SPORTS_RESULTS, "dateline": DATELINE,
          "list": "- 200 g\n- 3 st.\n- 1 kg\n- 2 dl", "short": "Tack!", "empty": "", "blank": " \n\t "}


@pytest.fixture(scope="module", autouse=True)
def model_loaded():
    # Timing tests measure identification, not the one-off model load.
    identify("warm up")


@pytest.mark.parametrize("lang", sorted(PARAGRAPHS))
def test_paragraph_is_identified_without_a_declared_language(lang):
    r = identify(PARAGRAPHS[lang])
    assert (r.language, r.origin) == (lang, "identified")
    assert 0.0 < r.confidence <= 1.0


@pytest.mark.parametrize("lang", sorted(PARAGRAPHS))
def test_paragraph_agreeing_with_its_declared_language_is_identified(lang):
    assert identify(PARAGRAPHS[lang], declared=lang).origin == "identified"


@pytest.mark.parametrize("lang", ["de", "sv", "ru"])
def test_confident_foreign_text_beats_a_wrong_declared_language(lang):
    r = identify(PARAGRAPHS[lang], declared="en")
    assert (r.language, r.origin) == (lang, "identified")
    assert r.confidence >= language.THRESHOLDS.override


@pytest.mark.parametrize("name", sorted(UNSURE))
def test_unsure_text_takes_the_declared_language(name):
    assert identify(UNSURE[name], declared="sv") == Identified("sv", 0.0, "declared")


@pytest.mark.parametrize("name", sorted(UNSURE))
def test_unsure_text_without_a_declared_language_takes_the_default(name):
    assert identify(UNSURE[name]) == Identified("en", 0.0, "default")
    assert identify(UNSURE[name], default="da") == Identified("da", 0.0, "default")


def test_results_table_under_a_prose_intro_is_identified_on_the_intro():
    text = "Results of the German first division matches played on Saturday and Sunday:\n" + SPORTS_RESULTS
    r = identify(text, declared="sv")
    assert (r.language, r.origin) == ("en", "identified")


def test_mixed_script_text_takes_the_declared_language():
    text = "Москва заявила во вторник, что переговоры продолжатся. 北京周二表示谈判将继续进行。 " * 5
    assert identify(text, declared="de") == Identified("de", 0.0, "declared")


@pytest.mark.parametrize("declared", ["pt-BR", "PT", "pt_PT", " pt "])
def test_declared_tag_is_cut_to_its_language(declared):
    assert identify(DATELINE, declared=declared).language == "pt"


@pytest.mark.parametrize("declared, code", [("iw", "he"), ("in-ID", "id"), ("nb-NO", "no")])
def test_withdrawn_or_variant_declared_code_is_renamed(declared, code):
    assert identify(DATELINE, declared=declared).language == code


@pytest.mark.parametrize("declared", ["und", "", "xx", "xx-zz-long", "123", "eng", None])
def test_unusable_declared_language_is_no_declaration(declared):
    assert identify(DATELINE, declared=declared) == Identified("en", 0.0, "default")


def test_default_must_be_a_language_code():
    for bad in ("und", "xx", ""):
        with pytest.raises(ValueError):
            identify(PARAGRAPHS["en"], default=bad)


@pytest.mark.parametrize("text", [*PARAGRAPHS.values(), *UNSURE.values(), "12345", "🙂" * 50, "\x00" * 10,
                                  "ок ok ок ok", "ʻ" * 30, "a" * 5000])
@pytest.mark.parametrize("declared", [None, "en", "und"])
def test_never_und_and_always_a_two_letter_code(text, declared):
    r = identify(text, declared=declared)
    assert r.language != "und" and len(r.language) == 2 and r.language.isalpha()
    assert r.origin in {"identified", "declared", "default"}
    assert 0.0 <= r.confidence <= 1.0
    assert (r.confidence > 0.0) == (r.origin == "identified")


@pytest.mark.parametrize("name, text", [
    ("1 MB single line", (PARAGRAPHS["de"] + " ") * (1_000_000 // len(PARAGRAPHS["de"]))),
    ("1 MB without a space", "x" * 1_000_000),
    ("5,000-number table", NUMBER_TABLE),
    ("5,000 numbers on one line", " ".join(str(i * 7) for i in range(5000))),
    ("1 MB mixed scripts", "Москва заявила The ministry said 北京周二表示 " * 25_000),
])
def test_time_is_bounded_whatever_the_length(name, text):
    t = time.perf_counter()
    identify(text, declared="en")
    assert time.perf_counter() - t < 0.5, name


def test_identification_reads_only_a_bounded_sample():
    body = PARAGRAPHS["sv"] + "\n"
    long_text = body * 5000
    assert len(language.sample(long_text)[0]) <= language.SAMPLE_CHARS
    # Text past the prefix cannot change the answer.
    assert identify(long_text + PARAGRAPHS["ru"] * 5000) == identify(long_text)
