"""Near-duplicate detection: the same project must not be submitted twice, nor a previous winner.

Each submitted entry gets MinHash signatures of its title (character 3-grams) and of its short
description (word 3-grams); locality-sensitive hashing turns them into band keys stored with the
entry under a multikey index, so finding candidates is one indexed query however many entries
there are. Candidates are then compared on their signatures (estimated Jaccard similarity).
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Final

import numpy as np
from datasketch import MinHash

from wsis_shared.text import words

TITLE_PERMUTATIONS: Final = 64
DESCRIPTION_PERMUTATIONS: Final = 128
# Rows per band: titles are short and alike in shape ("Digital … for …"), so their bands are
# longer (fewer chance candidates); descriptions use short bands to catch rewordings.
TITLE_ROWS_PER_BAND: Final = 8
DESCRIPTION_ROWS_PER_BAND: Final = 4
TITLE_THRESHOLD: Final = 0.85
DESCRIPTION_THRESHOLD: Final = 0.7
# A title alone never decides: "National Broadband Strategy" names the projects of many
# countries, and a ministry's "… Plan 2025" is not its winning "… Plan 2020". A near-identical
# title counts with a description that shares a fifth of its word triples (two different
# projects share almost none; a copy with half its description rewritten shares more).
DESCRIPTION_THRESHOLD_WITH_TITLE: Final = 0.2
# Fixed seed and scheme: signatures stored yesterday must compare with today's.
_SEED: Final = 20_05
_SCHEME: Final = "affine32"

# The normaliser's version, stored with each fingerprint: a fingerprint made by an earlier one
# is made again from the entry's text (`stale_fingerprints`), or it would never match today's.
NORMALISER_VERSION: Final = 2


# Indic virama and nukta make other letters of the ones they follow (क्ष is not कष): kept.
_LETTER_MAKING_MARKS: Final = frozenset({7, 9})


def normalise(text: str) -> str:
    """Case, accents (é, ё, Arabic and Hebrew vowel points) and punctuation do not tell two
    projects apart; the words are ICU's. Version 1 replaced every mark that is not an accent by
    a space — a Hindi or Tamil word fell apart at each vowel sign — and split only at spaces, so
    a Chinese, Japanese or Thai description was a handful of clause-long "words" and a reworded
    copy went unnoticed. Latin, Greek and Cyrillic texts normalise as they did."""
    text = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch if unicodedata.category(ch)[0] in "LMN" or ch == "_" else " " for ch in text)
    return " ".join(_without_accents(word) for word in words(kept))


def _without_accents(word: str) -> str:
    return "".join(
        ch
        for ch in unicodedata.normalize("NFKD", word)
        if unicodedata.combining(ch) in _LETTER_MAKING_MARKS or not unicodedata.combining(ch)
    )


# Drawing the permutations is most of a MinHash's cost: draw them once per size.
_PERMUTATIONS: Final = {
    size: MinHash(num_perm=size, seed=_SEED, scheme=_SCHEME).permutations
    for size in (TITLE_PERMUTATIONS, DESCRIPTION_PERMUTATIONS)
}


def _signature(shingles: set[str], permutations: int) -> np.ndarray:
    minhash = MinHash(
        num_perm=permutations,
        seed=_SEED,
        scheme=_SCHEME,
        permutations=_PERMUTATIONS[permutations],
    )
    minhash.update_batch([s.encode() for s in shingles] or [b""])
    values: np.ndarray = minhash.hashvalues.astype(np.uint64)
    return values


def _bands(prefix: str, signature: np.ndarray, rows: int) -> list[str]:
    keys = []
    for band, start in enumerate(range(0, len(signature), rows)):
        chunk = signature[start : start + rows].tobytes()
        keys.append(f"{prefix}{band}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}")
    return keys


@dataclass(frozen=True)
class Fingerprint:
    title: bytes
    description: bytes

    @classmethod
    def of(cls, title: str, description: str) -> Fingerprint:
        # A title of emoji or symbols only normalises to nothing, and every such title would
        # then be the same: its own characters stand in.
        t = normalise(title) or "".join(title.casefold().split())
        d = normalise(description)
        title_grams = {t[i : i + 3] for i in range(max(1, len(t) - 2))}
        words = d.split()
        description_grams = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}
        return cls(
            title=_signature(title_grams, TITLE_PERMUTATIONS).tobytes(),
            description=_signature(description_grams, DESCRIPTION_PERMUTATIONS).tobytes(),
        )

    def band_keys(self) -> list[str]:
        return _bands("t", _array(self.title), TITLE_ROWS_PER_BAND) + _bands(
            "d", _array(self.description), DESCRIPTION_ROWS_PER_BAND
        )

    def claim_keys(self) -> list[str]:
        """The band keys a submission writes to conflict with a near-duplicate submitted at the
        same moment: the first sixteen description bands, not forty. The same text (two
        partners of one project submitting it, say) shares all of them; a description sharing
        70% of its word triples shares one of the sixteen in 98 cases of 100. Title bands are
        left out: different projects share a title ("National Broadband Strategy") and would
        wait on each other at every deadline. A pair sharing none of them is still refused as
        before unless both submissions run within the same few milliseconds."""
        description = _bands("d", _array(self.description), DESCRIPTION_ROWS_PER_BAND)
        return description[:16]

    def similarity(self, other: Fingerprint) -> tuple[float, float]:
        """Estimated Jaccard similarity of (titles, descriptions)."""
        return (
            float(np.mean(_array(self.title) == _array(other.title))),
            float(np.mean(_array(self.description) == _array(other.description))),
        )

    def is_near_duplicate_of(self, other: Fingerprint) -> bool:
        title, description = self.similarity(other)
        return description >= DESCRIPTION_THRESHOLD or (
            title >= TITLE_THRESHOLD and description >= DESCRIPTION_THRESHOLD_WITH_TITLE
        )


def _array(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.uint64)
