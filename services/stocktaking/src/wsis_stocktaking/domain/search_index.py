"""Public search of the Stocktaking catalogue: an inverted index held in memory.

Why in memory: counting eight facets over 100,000 entries with MongoDB's `$facet` takes hundreds
of milliseconds, while one compressed bitmap (pyroaring) per facet value and per word answers the
same question in about a millisecond. Each API process holds its own index, loaded from the
catalogue and kept current from its change stream (`adapters.search_index_sync`).

What matches
- Filters: several values of one facet match any of them (OR); different facets must all match
  (AND). The action line facet holds the action line of the entry's category (C7.e-health → C7)
  and the further action lines the entry names.
- Text: the title, short description, organisation name and partners. Words are casefolded,
  stripped of accents, English stop words dropped and Snowball-stemmed, so "Schools" finds
  "school". Every query word must match (AND). The last query word also matches as the beginning
  of a word ("sola" finds "solar"), so results follow a person's typing — unless the query ends
  after the word (a space or a punctuation mark: the word is complete) or the word is a single
  character (which would match a large part of the vocabulary).
  Precisely, a prefix `p` matches an entry holding a word whose stem is the stem of `p`, or the
  stem of any word in the index that begins with `p`.
  A query of stop words and punctuation only does not restrict the results.
- Facet counts are disjunctive: the counts of one facet apply every filter except that facet's
  own, so a person who picked Africa sees how many entries picking Europe as well would add.
  A facet lists the values with entries, most entries first, and every selected value even when
  nothing matches it.

Order and pages: newest edition first, then entry id (ascending code points). A cursor names the
last entry of a page, so the next page starts strictly after that entry whatever was added,
changed or removed meanwhile: pages never repeat an entry, and an entry added meanwhile shows up
on a later page if it sorts after the cursor. A cursor does not depend on the query: used with
another query it continues that query from the same place.

Withdrawn entries stay findable, with status "withdrawn": the Stocktaking database is the public
record of every entry submitted, and the entry page of a withdrawn entry stays public too. A
search for current projects filters on the other statuses; the status facet says how many were
withdrawn. Records without their entry (votes counted before the submission arrived) are not
searchable until it arrives.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
import unicodedata
from array import array
from collections import OrderedDict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter
from typing import Any, Final, Literal, NamedTuple, TypeVar, get_args

import Stemmer  # type: ignore[import-not-found]  # PyStemmer ships no type information
from pyroaring import BitMap

from wsis_shared.errors import WsisError
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType, action_line_of
from wsis_stocktaking.domain.catalogue import LifecycleStatus

Facet = Literal[
    "edition",
    "action_line",
    "category",
    "sdg",
    "region",
    "country",
    "stakeholder_type",
    "status",
]
FACETS: Final[tuple[Facet, ...]] = get_args(Facet)
FacetValue = int | str
K = TypeVar("K")
V = TypeVar("V")

MAX_WORD_LENGTH: Final = 40  # longer "words" are joined-up links or codes nobody types
MIN_PREFIX_LENGTH: Final = 2
_PENDING_SLOTS_LIMIT: Final = 500_000  # while loading: about 4 MB of lists
# Facet counts of recent searches (text + filters; the page does not matter), until the index
# changes: the next pages of a search and the popular searches cost no counting. About 40 KB a
# search at most (every country, SDG, category… with its count).
FACET_COUNTS_KEPT: Final = 256

# Snowball's English stop words, less the negations, which change what a phrase means.
_STOP_WORDS_TEXT: Final = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself of off on once only or other ought our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves
"""
STOP_WORDS: Final = frozenset(_STOP_WORDS_TEXT.split())


class InvalidCursor(WsisError):
    status = 400
    code = "invalid-cursor"
    title = "The cursor is not valid"


@dataclass(frozen=True, slots=True)
class SearchableEntry:
    """What the index knows of a catalogue record: its facets and its searchable text.

    `status` is the record's lifecycle status (`CatalogueRecord.status`)."""

    entry_id: str
    edition: int
    status: LifecycleStatus
    category: Category
    action_lines: tuple[ActionLine, ...]
    sdgs: tuple[int, ...]
    region: Region
    country: str
    stakeholder_type: StakeholderType
    title: str
    short_description: str
    organisation_name: str
    partners: tuple[str, ...] = ()

    def facet_values(self) -> set[tuple[Facet, FacetValue]]:
        values: set[tuple[Facet, FacetValue]] = {
            ("edition", self.edition),
            ("category", self.category),
            ("action_line", action_line_of(self.category)),
            ("region", self.region),
            ("country", self.country),
            ("stakeholder_type", self.stakeholder_type),
            ("status", self.status),
        }
        values.update(("action_line", line) for line in self.action_lines)
        values.update(("sdg", sdg) for sdg in self.sdgs)
        return values

    @property
    def text(self) -> tuple[str, ...]:
        return (self.title, self.short_description, self.organisation_name, *self.partners)


# --- text --------------------------------------------------------------------------------------

_WORD: Final = re.compile(r"[^\W_]+")
_ENDS_IN_WORD: Final = re.compile(r"[^\W_]\Z")
_ASCII_SEPARATORS: Final = str.maketrans(
    {character: " " for character in map(chr, range(128)) if not character.isalnum()}
)
# Accents are combining marks once decomposed (NFKD); dropping those of the Latin, Greek and
# Cyrillic blocks lets "Cote d'Ivoire" find "Côte d'Ivoire". Marks of other scripts (Arabic
# vowel signs, Devanagari matras) carry meaning and stay.
_COMBINING_RANGES: Final = ((0x0300, 0x0370), (0x1AB0, 0x1B00), (0x1DC0, 0x1E00), (0x20D0, 0x2100))
_NO_ACCENTS: Final = {
    code: None
    for start, end in _COMBINING_RANGES
    for code in range(start, end)
    if unicodedata.combining(chr(code))
}


@dataclass(frozen=True)
class TextQuery:
    """Stems every match must hold, and the last word when it is matched as a prefix."""

    stems: tuple[str, ...]
    prefix: str | None = None

    @property
    def restricts(self) -> bool:
        return bool(self.stems) or self.prefix is not None


class TextAnalyzer:
    """Turns text into the words and stems the index stores, and a query into what to look up."""

    def __init__(self) -> None:
        # PyStemmer keeps its own cache of recent words, so repeated words are not re-stemmed.
        self._stemmer = Stemmer.Stemmer("english")

    def distinct_words(self, text: str) -> set[str]:
        """The casefolded, accent-free words of `text`, without stop words."""
        words = set(self._all_words(text)).difference(STOP_WORDS)
        if words and max(map(len, words)) > MAX_WORD_LENGTH:
            words = {word for word in words if len(word) <= MAX_WORD_LENGTH}
        return words

    def stems(self, words: list[str]) -> list[str]:
        stems: list[str] = self._stemmer.stemWords(words)
        return stems

    def stem(self, word: str) -> str:
        return self.stems([word])[0]

    def query(self, text: str) -> TextQuery:
        words = [word for word in self._all_words(text) if len(word) <= MAX_WORD_LENGTH]
        typing = bool(words) and len(words[-1]) >= MIN_PREFIX_LENGTH
        typing = typing and _ENDS_IN_WORD.search(text) is not None
        prefix = words.pop() if typing and words[-1] not in STOP_WORDS else None
        stems = self.stems([word for word in words if word not in STOP_WORDS])
        return TextQuery(stems=tuple(dict.fromkeys(stems)), prefix=prefix)

    @staticmethod
    def _all_words(text: str) -> list[str]:
        if text.isascii():  # the common case: the same words, three times faster than _WORD
            return text.lower().translate(_ASCII_SEPARATORS).split()
        folded = unicodedata.normalize("NFKD", text.casefold()).translate(_NO_ACCENTS)
        return _WORD.findall(folded)


# --- queries, cursors, results -----------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the edition and id of its last entry (see the module's docstring)."""

    edition: int
    entry_id: str

    def encode(self) -> str:
        raw = json.dumps([1, self.edition, self.entry_id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            version, edition, entry_id = json.loads(raw)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
            raise _invalid_cursor() from exc
        if version != 1 or type(edition) is not int or not isinstance(entry_id, str):
            raise _invalid_cursor()
        return cls(edition=edition, entry_id=entry_id)


def _invalid_cursor() -> InvalidCursor:
    return InvalidCursor(
        "this cursor was not issued by this search or was cut short: start again from the first "
        "page (leave out `cursor`) and follow `next_cursor` exactly as given"
    )


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    filters: Mapping[Facet, frozenset[FacetValue]] = field(default_factory=dict)
    limit: int = 20
    after: Cursor | None = None


class FacetCount(NamedTuple):
    """A facet value and how many entries have it. A tuple: a search may count hundreds."""

    value: FacetValue
    entries: int


_FacetCountsKey = tuple[str, frozenset[tuple[Facet, frozenset[FacetValue]]]]


@dataclass(frozen=True)
class SearchResult:
    entry_ids: list[str]
    total: int
    facets: dict[Facet, list[FacetCount]]
    next_cursor: Cursor | None


# --- the index ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Indexed:
    """What is kept of an indexed entry to take it out again (the index never stores its text)."""

    entry_id: str
    edition: int
    facet_ids: bytes  # array("I") of facet value ids
    word_ids: bytes  # array("I") of word ids, each distinct word once
    text_key: int  # hash of the text: an unchanged text is not analysed again


@dataclass(slots=True)
class _EditionOrder:
    """The entries of one edition in page order: ids sorted, with their slots alongside."""

    entry_ids: list[str] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)


class SearchIndex:
    """Every searchable entry of the catalogue: one bitmap per facet value and per word.

    Entries are numbered (slots) as they arrive; a bitmap holds the slots of the entries with
    that facet value or word. A stem matches every word with that stem. `put` and `remove` keep
    every bitmap exact, so an amended entry that changed its category, or a status moving from
    eligible to nominated, is found under its new values only.

    Build a large index with `loading()`, `put`, …, `finish_loading()`: while loading, the page
    order and the sorted vocabulary are built once at the end instead of entry by entry, and the
    words' entries are gathered in lists that go into their bitmaps a few thousand entries at a
    time (appending to a list costs half of adding to a bitmap, and a load adds a hundred words
    an entry).
    """

    def __init__(self, analyzer: TextAnalyzer | None = None) -> None:
        self._analyzer = analyzer or TextAnalyzer()
        self._loading = False
        self._slot_of: dict[str, int] = {}
        self._indexed: list[_Indexed | None] = []
        self._free_slots: list[int] = []
        self._live = BitMap()
        self._facets: dict[Facet, dict[FacetValue, BitMap]] = {facet: {} for facet in FACETS}
        self._facet_id_of: dict[tuple[Facet, FacetValue], int] = {}
        self._facet_of_id: list[tuple[Facet, FacetValue]] = []
        self._word_id_of: dict[str, int] = {}
        self._word_of_id: list[str] = []
        self._stem_of_word_id: list[str] = []
        self._word_bitmaps: list[BitMap] = []
        self._word_ids_of_stem: dict[str, set[int]] = {}
        self._free_word_ids: list[int] = []
        self._sorted_words: list[str] = []
        self._pending_slots: list[list[int]] = []  # while loading: by word id, not yet in bitmaps
        self._pending_count = 0
        self._orders: dict[int, _EditionOrder] = {}
        self._editions_newest_first: list[int] = []
        self._facet_counts_kept: OrderedDict[_FacetCountsKey, dict[Facet, list[FacetCount]]] = (
            OrderedDict()
        )
        self.facet_counts_reused = 0  # searches answered with kept counts (for the benchmark)

    @classmethod
    def loading(cls, analyzer: TextAnalyzer | None = None) -> SearchIndex:
        index = cls(analyzer)
        index._loading = True
        return index

    def finish_loading(self) -> None:
        self._flush_pending_slots()
        self._pending_slots = []
        for order in self._orders.values():
            pairs = sorted(zip(order.entry_ids, order.slots, strict=True))
            order.entry_ids = [entry_id for entry_id, _ in pairs]
            order.slots = [slot for _, slot in pairs]
        self._sorted_words = sorted(self._word_id_of)
        for bitmap in (*self._bitmaps(), self._live):
            bitmap.run_optimize()
            bitmap.shrink_to_fit()
        self._loading = False

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._slot_of

    def edition_of(self, entry_id: str) -> int | None:
        slot = self._slot_of.get(entry_id)
        return None if slot is None else self._current(slot).edition

    @property
    def vocabulary_size(self) -> int:
        """Distinct words in the index."""
        return len(self._word_id_of)

    def bitmap_bytes(self) -> int:
        """Memory of the bitmaps' containers (their serialised size, close to what they hold)."""
        return sum(len(bitmap.serialize()) for bitmap in (*self._bitmaps(), self._live))

    def _bitmaps(self) -> Iterator[BitMap]:
        for values in self._facets.values():
            yield from values.values()
        yield from (self._word_bitmaps[word_id] for word_id in self._word_id_of.values())

    # --- changes ---

    def put(self, entry: SearchableEntry) -> None:
        """Add the entry, or bring it up to date: only what changed is touched."""
        facet_ids = _packed(sorted(self._facet_id(key) for key in entry.facet_values()))
        text_key = hash(entry.text)
        slot = self._slot_of.get(entry.entry_id)
        if slot is None:
            if self._pending_count > _PENDING_SLOTS_LIMIT:
                self._flush_pending_slots()
            slot = self._free_slots.pop() if self._free_slots else len(self._indexed)
            if slot == len(self._indexed):
                self._indexed.append(None)
            indexed = _Indexed(entry.entry_id, entry.edition, facet_ids, b"", text_key)
            self._indexed[slot] = indexed
            self._slot_of[entry.entry_id] = slot
            self._live.add(slot)
            self._add_to_order(entry.edition, entry.entry_id, slot)
            self._add_facets(slot, facet_ids)
            indexed.word_ids = self._add_words(slot, entry.text)
            self._facet_counts_kept.clear()
            return
        self._flush_pending_slots()  # bitmaps must hold the entry before it is taken out
        indexed = self._current(slot)
        if (indexed.edition, indexed.facet_ids, indexed.text_key) != (
            entry.edition,
            facet_ids,
            text_key,
        ):
            # A new vote count or status text alone changes nothing a search counts.
            self._facet_counts_kept.clear()
        if indexed.edition != entry.edition:
            self._remove_from_order(indexed.edition, entry.entry_id)
            self._add_to_order(entry.edition, entry.entry_id, slot)
            indexed.edition = entry.edition
        if indexed.facet_ids != facet_ids:
            self._remove_facets(slot, indexed.facet_ids)
            self._add_facets(slot, facet_ids)
            indexed.facet_ids = facet_ids
        if indexed.text_key != text_key:
            self._remove_words(slot, indexed.word_ids)
            indexed.word_ids = self._add_words(slot, entry.text)
            indexed.text_key = text_key

    def remove(self, entry_id: str) -> None:
        slot = self._slot_of.pop(entry_id, None)
        if slot is None:
            return
        self._flush_pending_slots()
        indexed = self._current(slot)
        self._remove_from_order(indexed.edition, entry_id)
        self._remove_facets(slot, indexed.facet_ids)
        self._remove_words(slot, indexed.word_ids)
        self._live.discard(slot)
        self._indexed[slot] = None
        self._free_slots.append(slot)
        self._facet_counts_kept.clear()

    def _current(self, slot: int) -> _Indexed:
        indexed = self._indexed[slot]
        assert indexed is not None, "a slot in use always holds its entry"
        return indexed

    def _facet_id(self, key: tuple[Facet, FacetValue]) -> int:
        facet_id = self._facet_id_of.get(key)
        if facet_id is None:
            facet_id = self._facet_id_of[key] = len(self._facet_of_id)
            self._facet_of_id.append(key)
        return facet_id

    def _add_facets(self, slot: int, facet_ids: bytes) -> None:
        for facet_id in _unpacked(facet_ids):
            facet, value = self._facet_of_id[facet_id]
            bitmap = self._facets[facet].get(value)
            if bitmap is None:
                bitmap = self._facets[facet][value] = BitMap()
            bitmap.add(slot)

    def _remove_facets(self, slot: int, facet_ids: bytes) -> None:
        for facet_id in _unpacked(facet_ids):
            facet, value = self._facet_of_id[facet_id]
            bitmap = self._facets[facet][value]
            bitmap.discard(slot)
            if not bitmap:
                del self._facets[facet][value]

    def _add_words(self, slot: int, text: tuple[str, ...]) -> bytes:
        """Returns the ids of the entry's words, to take them out again."""
        # The hot path of a load (a hundred words an entry, memory-bound): the lookups loop in C.
        words = self._analyzer.distinct_words("\n".join(text))
        word_ids = [found for found in map(self._word_id_of.get, words) if found is not None]
        if len(word_ids) < len(words):
            new_words = [word for word in words if word not in self._word_id_of]
            for word, stem in zip(new_words, self._analyzer.stems(new_words), strict=True):
                self._new_word(word, stem)
            word_ids = list(_lookup(self._word_id_of, words))
        if self._loading:
            for slots in _lookup(self._pending_slots, word_ids):
                slots.append(slot)
            self._pending_count += len(word_ids)
        else:
            for bitmap in _lookup(self._word_bitmaps, word_ids):
                bitmap.add(slot)
        return _packed(word_ids)

    def _flush_pending_slots(self) -> None:
        if not self._pending_count:
            return
        for word_id, slots in enumerate(self._pending_slots):
            if slots:
                self._word_bitmaps[word_id].update(slots)
                slots.clear()
        self._pending_count = 0

    def _new_word(self, word: str, stem: str) -> None:
        if self._free_word_ids:
            word_id = self._free_word_ids.pop()
            self._word_of_id[word_id] = word
            self._stem_of_word_id[word_id] = stem
        else:
            word_id = len(self._word_of_id)
            self._word_of_id.append(word)
            self._stem_of_word_id.append(stem)
            self._word_bitmaps.append(BitMap())
            if self._loading:
                self._pending_slots.append([])
        self._word_id_of[word] = word_id
        self._word_ids_of_stem.setdefault(stem, set()).add(word_id)
        if not self._loading:
            bisect.insort(self._sorted_words, word)

    def _remove_words(self, slot: int, word_ids: bytes) -> None:
        for word_id in _unpacked(word_ids):
            bitmap = self._word_bitmaps[word_id]
            bitmap.discard(slot)
            if not bitmap:
                self._forget_word(word_id)

    def _forget_word(self, word_id: int) -> None:
        """The last entry holding the word has gone: it no longer completes a prefix."""
        word, stem = self._word_of_id[word_id], self._stem_of_word_id[word_id]
        del self._word_id_of[word]
        same_stem = self._word_ids_of_stem[stem]
        same_stem.discard(word_id)
        if not same_stem:
            del self._word_ids_of_stem[stem]
        if not self._loading:
            del self._sorted_words[bisect.bisect_left(self._sorted_words, word)]
        self._free_word_ids.append(word_id)

    def _add_to_order(self, edition: int, entry_id: str, slot: int) -> None:
        order = self._orders.get(edition)
        if order is None:
            order = self._orders[edition] = _EditionOrder()
            self._editions_newest_first = sorted(self._orders, reverse=True)
        if self._loading:
            order.entry_ids.append(entry_id)
            order.slots.append(slot)
        else:
            at = bisect.bisect_left(order.entry_ids, entry_id)
            order.entry_ids.insert(at, entry_id)
            order.slots.insert(at, slot)

    def _remove_from_order(self, edition: int, entry_id: str) -> None:
        order = self._orders[edition]
        if self._loading:
            at = order.entry_ids.index(entry_id)
        else:
            at = bisect.bisect_left(order.entry_ids, entry_id)
        del order.entry_ids[at]
        del order.slots[at]
        if not order.entry_ids:
            del self._orders[edition]
            self._editions_newest_first = sorted(self._orders, reverse=True)

    # --- search ---

    def search(self, query: SearchQuery) -> SearchResult:
        if self._loading:
            raise RuntimeError("the index is still loading: search the index being served")
        text = self._text_matches(query.text)
        selected: dict[Facet, BitMap] = {}
        for facet, values in query.filters.items():
            if values:
                found = [self._facets[facet][v] for v in values if v in self._facets[facet]]
                selected[facet] = BitMap.union(*found) if found else BitMap()
        matches = self._all_of([text, *selected.values()])
        key = (query.text, frozenset((f, v) for f, v in query.filters.items() if v))
        facets = self._facet_counts_kept.get(key)
        if facets is None:
            facets = {
                facet: self._counts(
                    facet,
                    matches
                    if facet not in selected
                    else self._all_of([text, *(b for f, b in selected.items() if f != facet)]),
                    query.filters.get(facet, frozenset()),
                )
                for facet in FACETS
            }
            self._facet_counts_kept[key] = facets
            if len(self._facet_counts_kept) > FACET_COUNTS_KEPT:
                self._facet_counts_kept.popitem(last=False)
        else:
            self._facet_counts_kept.move_to_end(key)
            self.facet_counts_reused += 1
        page = self._page(matches, query.after, query.limit + 1)
        next_cursor = None
        if len(page) > query.limit:
            del page[query.limit :]
            last = self._current(self._slot_of[page[-1]])
            next_cursor = Cursor(last.edition, last.entry_id)
        return SearchResult(
            entry_ids=page, total=len(matches), facets=facets, next_cursor=next_cursor
        )

    def _text_matches(self, text: str) -> BitMap | None:
        """The entries the text matches; None when the text does not restrict the search."""
        query = self._analyzer.query(text)
        if not query.restricts:
            return None
        required: list[BitMap] = []
        for stem in query.stems:
            word_ids = self._word_ids_of_stem.get(stem)
            if not word_ids:
                return BitMap()
            required.append(self._union_of_words(word_ids))
        if query.prefix is not None:
            stems = {self._stem_of_word_id[w] for w in self._word_ids_starting(query.prefix)}
            stems.add(self._analyzer.stem(query.prefix))
            completing = [w for stem in stems for w in self._word_ids_of_stem.get(stem, ())]
            if not completing:
                return BitMap()
            required.append(self._union_of_words(completing))
        return BitMap.intersection(*sorted(required, key=len))

    def _union_of_words(self, word_ids: Collection[int]) -> BitMap:
        return BitMap.union(*_lookup(self._word_bitmaps, word_ids))

    def _word_ids_starting(self, prefix: str) -> tuple[int, ...]:
        words = self._sorted_words
        start = bisect.bisect_left(words, prefix)
        # Every word beginning with the prefix sorts before the prefix followed by the highest
        # code point (a non-character, never part of a word).
        end = bisect.bisect_left(words, prefix + "\U0010ffff", lo=start)
        return _lookup(self._word_id_of, words[start:end])

    def _all_of(self, bitmaps: list[BitMap | None]) -> BitMap:
        """The entries in every one of `bitmaps` (None: no restriction). Never change the
        result: it may be the index's own bitmap of every entry."""
        restricting = sorted((b for b in bitmaps if b is not None), key=len)
        if not restricting:
            return self._live
        return BitMap.intersection(*restricting)

    def _counts(
        self, facet: Facet, base: BitMap, selected: frozenset[FacetValue]
    ) -> list[FacetCount]:
        bitmaps = self._facets[facet]
        # The loops over the values stay in C: ~190 countries in most searches.
        if base is self._live:
            counts = list(map(len, bitmaps.values()))
        else:
            counts = list(map(base.intersection_cardinality, bitmaps.values()))
        shown = list(map(FacetCount._make, compress(zip(bitmaps, counts, strict=True), counts)))
        if selected:
            listed = {count_of.value for count_of in shown}
            shown.extend(FacetCount(value, 0) for value in selected if value not in listed)
        # Most entries first, then by value: two stable sorts, their keys taken in C.
        shown.sort(key=_VALUE)
        shown.sort(key=_ENTRIES, reverse=True)
        return shown

    def _page(self, matches: BitMap, after: Cursor | None, wanted: int) -> list[str]:
        page: list[str] = []
        for edition in self._editions_newest_first:
            if after is not None and edition > after.edition:
                continue
            candidates = matches & self._facets["edition"][edition]
            if not candidates:
                continue
            order = self._orders[edition]
            start = 0
            if after is not None and edition == after.edition:
                start = bisect.bisect_right(order.entry_ids, after.entry_id)
            page.extend(self._first(order, start, candidates, wanted - len(page)))
            if len(page) >= wanted:
                break
        return page

    def _first(
        self, order: _EditionOrder, start: int, candidates: BitMap, wanted: int
    ) -> list[str]:
        """The first `wanted` candidates at or after position `start` of the edition's order.

        Either walk the order testing each entry (about wanted × edition size / candidates
        steps: cheap when many entries match) or sort the candidates' ids (cheap when few do);
        either way at most about √(2 × wanted × edition size) steps.
        """
        matching = len(candidates)
        span = len(order.entry_ids) - start
        if span <= 0:
            return []
        if wanted * span < 2 * matching * matching:
            found: list[str] = []
            slots, entry_ids = order.slots, order.entry_ids
            for at in range(start, len(slots)):
                if slots[at] in candidates:
                    found.append(entry_ids[at])
                    if len(found) == wanted:
                        break
            return found
        first_id = order.entry_ids[start]
        ids = [self._current(slot).entry_id for slot in candidates]
        return sorted(entry_id for entry_id in ids if entry_id >= first_id)[:wanted]


_VALUE: Final = itemgetter(0)
_ENTRIES: Final = itemgetter(1)


def _lookup(table: Mapping[K, V] | Sequence[V], keys: Collection[K]) -> tuple[V, ...]:
    """`table[key]` for every key, the loop in C."""
    if not keys:
        return ()
    found: Any = itemgetter(*keys)(table)
    return tuple(found) if len(keys) > 1 else (found,)


def _packed(ids: Iterable[int]) -> bytes:
    return array("I", ids).tobytes()


def _unpacked(packed: bytes) -> memoryview:
    return memoryview(packed).cast("I")
