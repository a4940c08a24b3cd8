"""Counting words in any script, the way ICU (and so every modern browser) segments text.

A regular expression cannot do it: Hindi or Tamil words hold combining vowel signs that `\\w`
does not match (one word became three), and Chinese, Japanese or Thai are written without
spaces (a paragraph became one word). ICU's word breaker uses dictionaries for those scripts;
a segment is a word when it holds a letter or a digit. The project teams' page counts with the
browser's `Intl.Segmenter`, the same ICU rules, so the two agree.
"""

from __future__ import annotations

import unicodedata

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


def _is_word(segment: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in segment)
