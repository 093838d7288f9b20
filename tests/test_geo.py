"""Offline geocoding: the compact index and the choice among places that share a name."""

from pipelines import gazetteer, geo


def test_a_homonym_follows_the_articles_other_places():
    fr = geo.resolve_all(["Paris", "Lyon", "France"])
    us = geo.resolve_all(["Paris", "Dallas", "Texas"])
    assert (fr[0].country_code, fr[0].admin1) == ("FR", "FR.11")
    assert (us[0].country_code, us[0].admin1) == ("US", "US.TX")


def test_name_comma_state_settles_it_for_every_mention():
    text = "Paris, Tenn., is small. Paris has one main street."
    spans = [(0, 5), (22, 27)]
    places = geo.resolve_all(["Paris", "Paris"], text, spans)
    assert [(p.country_code, p.admin1) for p in places] == [("US", "US.TN")] * 2


def test_variant_spellings_and_abbreviations():
    assert geo.lookup("Odessa").geonames_id == geo.lookup("Odesa").geonames_id == 698740
    assert geo.lookup("Kiev").name == "Kyiv"
    assert geo.lookup("Calif.").name == "California"
    assert geo.lookup("U.S.").country_code == "US"


def test_nationality_words_resolve_to_the_country_but_are_not_places():
    assert geo.resolve_all(["Russians"])[0].country_code == "RU"
    assert geo.is_demonym("Russians") and geo.lookup("Russians") is None
    assert not geo.is_demonym("Reuters")


def test_an_unknown_place_has_no_point_never_zero():
    assert geo.resolve_all(["Zzyzxborough"]) == [None]
    assert geo.lookup("Zzyzxborough") is None


def test_the_index_is_compact_and_cached():
    g = geo._gazetteer()
    size = sum(a.nbytes for a in (g.kind, g.country, g.admin1, g.lat, g.lon, g.gid, g.pop, g.name_at, g.hashes,
                                   g.starts, g.members))
    assert size < 40_000_000
    assert gazetteer.cache_path().exists()


def test_only_strong_evidence_makes_a_name_surely_a_place():
    # Countries, first-level areas and shipped regions by any name; towns by their own name and size.
    assert geo.is_place("Kiev") and geo.is_place("Crimea") and geo.is_place("Donbas") and geo.is_place("Egypt")
    assert geo.is_place("Bucha", 15_000) and not geo.is_place("Bucha")
    # Not a translated alternate name, a county's bare name, an AP abbreviation without its stop or a
    # three-letter code.
    assert not geo.is_place("Hamas", 15_000)  # an alternate name of Hamm
    assert not geo.is_place("White House", 15_000)  # Casablanca's, from "Dar el Beida"
    assert not geo.is_place("Ford", 15_000)  # Ford County
    assert not geo.is_place("Miss") and not geo.is_place("NLD")
    assert geo.is_area("Egypt") and geo.is_area("Crimea") and not geo.is_area("Lincoln")


def test_a_translated_name_is_not_a_spelling():
    white_house = geo.lookup("White House")
    assert white_house is None or white_house.name != "Casablanca"
    assert geo.lookup("Casablanca").name == "Casablanca"
    assert geo.lookup("L.A.").name == "Los Angeles"  # initials are a short form, not a translation
