"""The ISO 3166-1 alpha-2 → ITU region table in `wsis_shared.geography`."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from wsis_shared.geography import (
    COUNTRIES,
    ITU_MEMBER_STATES,
    Country,
    UnknownCountry,
    country,
    known_region,
    region_of,
)
from wsis_shared.vocabulary import Region


@pytest.mark.parametrize(
    ("code", "region"),
    [
        # the tricky ones: North African Arab League members, Caucasus, Central Asia, Iran
        ("EG", Region.ARAB_STATES),
        ("MA", Region.ARAB_STATES),
        ("DZ", Region.ARAB_STATES),
        ("SO", Region.ARAB_STATES),
        ("KM", Region.ARAB_STATES),
        ("SA", Region.ARAB_STATES),
        ("GE", Region.EUROPE),
        ("UA", Region.EUROPE),
        ("TR", Region.EUROPE),
        ("IL", Region.EUROPE),
        ("CY", Region.EUROPE),
        ("KZ", Region.CIS),
        ("RU", Region.CIS),
        ("AM", Region.CIS),
        ("IR", Region.ASIA_PACIFIC),
        ("AF", Region.ASIA_PACIFIC),
        ("FJ", Region.ASIA_PACIFIC),
        ("BR", Region.AMERICAS),
        ("JM", Region.AMERICAS),
        ("CA", Region.AMERICAS),
        ("KE", Region.AFRICA),
        ("NG", Region.AFRICA),
        ("ZA", Region.AFRICA),
    ],
)
def test_region_of_known_countries(code: str, region: Region) -> None:
    assert region_of(code) is region
    assert country(code).region is region


def test_country_has_code_and_display_name() -> None:
    assert country("TR") == Country("TR", "Türkiye", Region.EUROPE)
    assert country("RU").name == "Russian Federation"


def test_lookup_is_case_insensitive_and_strips_spaces() -> None:
    assert country("eg") == country("EG")
    assert country(" ke ") == country("KE")
    assert region_of("Ge") is Region.EUROPE


@pytest.mark.parametrize("code", ["ZZ", "", "KEN", "12", "  "])
def test_unknown_code_raises(code: str) -> None:
    with pytest.raises(UnknownCountry, match="unknown country code"):
        country(code)
    with pytest.raises(ValueError, match="unknown country code"):
        region_of(code)


def test_every_region_has_at_least_ten_countries() -> None:
    counts = Counter(c.region for c in COUNTRIES.values())
    for region in Region:
        assert counts[region] >= 10, region


def test_codes_are_two_upper_case_letters_and_keys_match() -> None:
    for code, entry in COUNTRIES.items():
        assert re.fullmatch(r"[A-Z]{2}", code), code
        assert entry.code == code
        assert entry.name
        assert isinstance(entry.region, Region)


def test_all_itu_member_states_are_present() -> None:
    assert len(ITU_MEMBER_STATES) >= 193
    assert ITU_MEMBER_STATES.issubset(COUNTRIES)
    members = Counter(COUNTRIES[code].region for code in ITU_MEMBER_STATES)
    assert members[Region.CIS] == 10
    assert members[Region.ARAB_STATES] == 21


@pytest.mark.parametrize(
    "code",
    [
        "ß",  # upper-cases to "SS", South Sudan
        "ﬅ",  # the "st" ligature upper-cases to "ST", Sao Tome and Principe
        "ıe",  # dotless i upper-cases to "I": "IE", Ireland
        "ſn",  # long s upper-cases to "S": "SN", Senegal
        "ｋｅ",  # full-width letters
    ],
)
def test_only_two_ascii_letters_are_a_code(code: str) -> None:
    with pytest.raises(UnknownCountry, match="expected a two-letter ISO 3166-1 alpha-2 code"):
        country(code)
    assert known_region(code) is None
