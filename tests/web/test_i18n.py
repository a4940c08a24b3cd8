"""The six languages without a browser: negotiation, complete catalogues, locale formatting."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wsis_shared.vocabulary import CATEGORY_NAMES
from wsis_web import i18n
from wsis_web.labels import CATEGORY_MESSAGES
from wsis_web.messages import extracted, read_catalog, untranslated

OTHER_LANGUAGES = ("ar", "zh", "fr", "ru", "es")


@pytest.mark.parametrize(
    ("query", "cookie", "accept_language", "expected"),
    [
        (None, None, None, "en"),
        (None, None, "fr-CH, fr;q=0.9, en;q=0.8", "fr"),
        (None, None, "de-DE, ru;q=0.5, es;q=0.7", "es"),  # German is not offered: best of the rest
        (None, None, "zh-Hans-CN", "zh"),
        (None, None, "ar-EG;q=0, en;q=0.1", "en"),  # q=0 means "not this one"
        (None, None, "pt-BR, de", "en"),
        (None, None, "fr;q=bogus, ru", "ru"),  # a broken quality counts as 0
        (None, "ar", "fr", "ar"),  # the remembered choice beats the browser
        ("es", "ar", "fr", "es"),  # the switcher beats both
        ("xx", "ru", None, "ru"),  # an unknown choice is ignored
        ("ES", None, None, "es"),
    ],
)
def test_negotiation(
    query: str | None, cookie: str | None, accept_language: str | None, expected: str
) -> None:
    assert i18n.negotiate(query, cookie, accept_language) == expected


def test_the_category_names_are_the_vocabularys() -> None:
    assert {c: m for c, m in CATEGORY_MESSAGES.items()} == dict(CATEGORY_NAMES)


def test_every_message_is_extracted_including_the_18_categories() -> None:
    ids = {m.id for m in extracted() if m.id}
    assert set(CATEGORY_NAMES.values()) <= ids
    assert "Vote for this project" in ids
    assert ("%(num)s vote", "%(num)s votes") in ids


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    assert untranslated(language) == []


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    catalog = read_catalog(language)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {
            p
            for p in (
                "%(num)s",
                "%(start)s",
                "%(end)s",
                "%(email)s",
                "%(title)s",
                "%(seconds)s",
                "%(date)s",
                "%(size)s",
                "%(number)s",
            )
            if p in ids[0]
        }
        for text in map(str, strings):
            # Plural forms for zero, one and two may spell the number out.
            found = {p for p in wanted if p in text}
            assert found == wanted or (wanted == {"%(num)s"} and not found), (message.id, text)


def test_the_compiled_catalogues_translate() -> None:
    assert i18n.translations("fr").gettext("Capacity building") == "Le renforcement des capacités"
    ar = i18n.translations("ar")
    assert [ar.ngettext("%(num)s vote", "%(num)s votes", n) for n in (1, 2, 11)] == [
        "صوت واحد",
        "صوتان",
        "%(num)s صوتًا",
    ]
    assert i18n.translations("ru").ngettext("%(num)s vote", "%(num)s votes", 5) == "%(num)s голосов"


def test_dates_and_numbers_per_locale() -> None:
    moment = datetime(2027, 3, 11, 9, 30, tzinfo=UTC)
    assert i18n.Formatter("fr").date(moment) == "11 mars 2027"
    assert i18n.Formatter("es").date(moment) == "11 de marzo de 2027"
    assert i18n.Formatter("zh").date(moment) == "2027年3月11日"
    assert i18n.Formatter("en").number(1234567) == "1,234,567"
    assert i18n.Formatter("fr").number(1234567) == "1\u202f234\u202f567"
    assert i18n.Formatter("ru").number(1234567) == "1\xa0234\xa0567"
    assert [i18n.Formatter(lang).country("SN") for lang in ("ar", "zh", "ru")] == [
        "السنغال",
        "塞内加尔",
        "Сенегал",
    ]
    assert i18n.Formatter("fr").country("XZ") == "XZ"  # no name: the code as it is


def test_right_to_left_only_for_arabic() -> None:
    assert {language.code: language.direction for language in i18n.languages()} == {
        "ar": "rtl",
        "zh": "ltr",
        "en": "ltr",
        "fr": "ltr",
        "ru": "ltr",
        "es": "ltr",
    }
