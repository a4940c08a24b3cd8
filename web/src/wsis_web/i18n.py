"""The six UN languages: catalogues compiled from the committed .po files when the app starts
(no compiled .mo in git, so a fresh clone works as is), negotiation, and locale formatting."""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime as DateTime
from functools import cache
from pathlib import Path
from typing import Final

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALE_DIR: Final = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE: Final = "en"
# The order of the switcher: the UN's, alphabetical in English.
LANGUAGES: Final = ("ar", "zh", "en", "fr", "ru", "es")
RIGHT_TO_LEFT: Final = frozenset({"ar"})


@dataclass(frozen=True)
class Language:
    code: str
    autonym: str  # the language's name in itself, as a switcher shows it
    direction: str


def languages() -> tuple[Language, ...]:
    return tuple(
        Language(
            code=code,
            autonym=Locale.parse(code).get_display_name(code) or code,
            direction="rtl" if code in RIGHT_TO_LEFT else "ltr",
        )
        for code in LANGUAGES
    )


def supported(code: str | None) -> str | None:
    """`fr-CA`, `FR`, `zh_Hans` → the supported language they name, else None."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (RFC 9110 §12.5.4 quality values)."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        language = supported(tag)
        if language is not None and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def negotiate(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """An explicit choice (the switcher's query, then the remembered cookie) wins over what the
    browser sends; English when nothing matches."""
    return (
        supported(query)
        or supported(cookie)
        or parse_accept_language(accept_language)
        or DEFAULT_LANGUAGE
    )


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of a language, compiled in memory from its .po file."""
    if language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@dataclass(frozen=True)
class Formatter:
    """Dates and numbers written the way the page's language writes them (UTC: the schedule is
    set in UTC and the page says so)."""

    language: str

    def datetime(self, value: DateTime) -> str:
        return (
            format_datetime(
                value.astimezone(UTC),
                format="medium",
                tzinfo=UTC,
                locale=self.language,
            )
            + " UTC"
        )

    def date(self, value: DateTime) -> str:
        return format_date(value.astimezone(UTC).date(), format="long", locale=self.language)

    def country(self, code: str) -> str:
        """An ISO 3166-1 code as the language names the country (the code if Babel has none)."""
        name = Locale.parse(self.language).territories.get(code.upper())
        return str(name) if name else code

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.language)
