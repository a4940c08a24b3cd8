"""Text people bring, in any script: counting its words, and naming their files.

Counting words the way ICU (and so every modern browser) segments text:

A regular expression cannot do it: Hindi or Tamil words hold combining vowel signs that `\\w`
does not match (one word became three), and Chinese, Japanese or Thai are written without
spaces (a paragraph became one word). ICU's word breaker uses dictionaries for those scripts;
a segment is a word when it holds a letter or a digit. The project teams' page counts with the
browser's `Intl.Segmenter`, the same ICU rules, so the two agree.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from icu4py.breakers import WordBreaker

# The root locale: its dictionaries cover every script; a team's language is not known here.
_LOCALE = "und"


_HYPHENS = frozenset("-\u2010\u2011")  # ICU breaks "ICT-enabled" in two; people count one


def word_count(text: str) -> int:
    if not text:
        return 0
    count = 0
    before: list[str] = []  # the two segments before this one
    for segment in WordBreaker(unicodedata.normalize("NFC", text), _LOCALE):
        if _is_word(segment):
            joined = len(before) == 2 and before[1] in _HYPHENS and _is_word(before[0])
            count += 0 if joined else 1
        before = [*before[-1:], segment]
    return count


def words(text: str) -> list[str]:
    """The words of `text` as ICU segments them (dictionaries for Chinese, Japanese, Thai…),
    without the spaces and punctuation between them."""
    if not text:
        return []
    return [s for s in WordBreaker(unicodedata.normalize("NFC", text), _LOCALE) if _is_word(s)]


def _is_word(segment: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in segment)


_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_FILE_NAME_PUNCTUATION = frozenset(" .-_")
MAX_FILE_STEM: Final = 100


def file_stem(name: str | None) -> str:
    """The name a person gave a file, without its folders and extension, safe in a header and
    on any disk: letters, combining marks and digits of every script ("रिपोर्ट", "Отчёт"),
    spaces and `. - _`; each run of anything else becomes one `_`. Empty when nothing is left
    (the caller has a fallback). The caller adds the extension of the type the bytes showed."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    base = _EXTENSION.sub("", base)  # "Rapport v1.2 final" has none: ".2 final" is no extension
    kept: list[str] = []
    for ch in base:
        if unicodedata.category(ch)[0] in "LMN" or ch in _FILE_NAME_PUNCTUATION:
            kept.append(ch)
        elif not kept or kept[-1] != "_":
            kept.append("_")
    return "".join(kept).strip(" ._")[:MAX_FILE_STEM].strip(" ._")


# Invisible characters that reorder or hide what a reader sees ("Trojan Source"); joiners stay:
# Persian, Hindi and emoji need them.
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def single_line(value: str) -> str:
    """A name or a title as readers will see it: no control characters (line breaks, NUL) and
    no bidirectional overrides. Raises ValueError naming the character to remove."""
    for ch in value:
        if unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS:
            raise ValueError(
                f"remove the invisible character U+{ord(ch):04X}: names and titles are one "
                "line of visible text"
            )
    return value
