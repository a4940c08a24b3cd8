"""The interface's messages, extracted from the templates and the code (Babel's extractors), and
the catalogue file of each language. `python -m wsis_web.messages` rewrites every .po with the
messages extracted now, keeping the translations they already have, and lists what is missing;
`python -m wsis_web.messages --merge new.json` first adds the translations in that file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from wsis_web.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR

PACKAGE: Final = Path(__file__).parent
METHODS: Final = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
KEYWORDS: Final = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extracted() -> Catalog:
    catalog = Catalog(project="wsis-web", domain="messages")
    for filename, line, message, comments, context in extract_from_dir(
        str(PACKAGE), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {}}
    ):
        catalog.add(message, None, [(filename, line)], auto_comments=comments, context=context)
    return catalog


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as po:
        return read_po(po, locale=language)


def untranslated(language: str) -> list[str]:
    """msgids of the interface that the language's catalogue lacks or leaves empty."""
    catalog = read_catalog(language)
    missing = []
    for message in extracted():
        if not message.id:
            continue
        found = catalog.get(message.id)
        strings = found.string if found is not None else None
        texts = strings if isinstance(strings, tuple) else (strings,)
        if found is None or not all(texts):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update(*, quiet: bool = False) -> int:
    template = extracted()
    missing = 0
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        path = po_path(language)
        catalog = read_catalog(language) if path.exists() else Catalog(locale=language)
        catalog.update(template, no_fuzzy_matching=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=100, omit_header=False, include_previous=False)
        gaps = untranslated(language)
        missing += len(gaps)
        for gap in [] if quiet else gaps:
            print(f"{language}: untranslated: {gap!r}", file=sys.stderr)
    return missing


def merge(path: Path) -> int:
    """Add translations from a JSON file `{msgid: {language: text}}` (a plural message:
    `{language: [singular, plural, …]}`) to the catalogues; returns how many were set."""
    wanted: dict[str, dict[str, str | list[str]]] = json.loads(path.read_text(encoding="utf-8"))
    added = 0
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        catalog = read_catalog(language)
        for message_id, texts in wanted.items():
            text = texts.get(language)
            message = catalog.get(message_id)
            if text is None or message is None:
                continue
            message.string = tuple(text) if isinstance(text, list) else text
            added += 1
        with po_path(language).open("wb") as po:
            write_po(po, catalog, width=100, omit_header=False, include_previous=False)
    return added


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--merge":
        update(quiet=True)  # the catalogues first know every message, then get their translations
        print(f"{merge(Path(sys.argv[2]))} translations merged", file=sys.stderr)
    sys.exit(1 if update() else 0)
