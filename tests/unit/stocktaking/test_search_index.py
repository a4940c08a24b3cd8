"""The search index answers exactly what a brute-force filter over the same entries answers —
results, order, totals and disjunctive facet counts — whatever sequence of additions, changes
and removals built it; and cursor pages never repeat or skip an entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, get_args
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsis_shared.events import EntryPublic
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType
from wsis_stocktaking.adapters import search_index_sync
from wsis_stocktaking.domain import search_index
from wsis_stocktaking.domain.catalogue import LifecycleStatus
from wsis_stocktaking.domain.search_index import (
    FACETS,
    Cursor,
    Facet,
    FacetCount,
    FacetValue,
    InvalidCursor,
    SearchableEntry,
    SearchIndex,
    SearchQuery,
    SearchResult,
    TextAnalyzer,
)

ANALYZER = TextAnalyzer()
STATUSES: tuple[LifecycleStatus, ...] = get_args(LifecycleStatus)

# A small world, so that random entries share words, stems, prefixes and facet values.
_WORDS_TEXT = """school schools schooling solar solarpunk sol national nationals nation health
    e-health water Côte cote the and of networks network mobile"""
WORDS = _WORDS_TEXT.split()
FRAGMENTS = ("sch", "scho", "sola", "nationa", "nat", "he", "wat", "net", "mob", "co", "s", "x")
ENTRY_IDS = [f"entry-{n:02d}" for n in range(12)]
EDITIONS = [2025, 2026, 2027]
COUNTRIES = {"KE": Region.AFRICA, "BR": Region.AMERICAS, "FR": Region.EUROPE}
CATEGORIES = [Category.C4, Category.C7_E_HEALTH, Category.C7_E_LEARNING, Category.C11]
ACTION_LINES = [ActionLine.C3, ActionLine.C4, ActionLine.C7]
STAKEHOLDER_TYPES = [StakeholderType.GOVERNMENT, StakeholderType.CIVIL_SOCIETY]

texts = st.lists(st.sampled_from(WORDS), max_size=5).map(" ".join)


@st.composite
def entries(draw: st.DrawFn, entry_id: str | None = None) -> SearchableEntry:
    country = draw(st.sampled_from(sorted(COUNTRIES)))
    return SearchableEntry(
        entry_id=entry_id or draw(st.sampled_from(ENTRY_IDS)),
        edition=draw(st.sampled_from(EDITIONS)),
        status=draw(st.sampled_from(STATUSES[:4])),
        category=draw(st.sampled_from(CATEGORIES)),
        action_lines=tuple(draw(st.sets(st.sampled_from(ACTION_LINES), max_size=2))),
        sdgs=tuple(draw(st.sets(st.integers(1, 4), max_size=2))),
        region=COUNTRIES[country],
        country=country,
        stakeholder_type=draw(st.sampled_from(STAKEHOLDER_TYPES)),
        title=draw(texts),
        short_description=draw(texts),
        organisation_name=draw(texts),
        partners=tuple(draw(st.lists(texts, max_size=2))),
    )


FACET_CHOICES: Mapping[Facet, list[FacetValue]] = {
    "edition": [*EDITIONS, 2020],
    "action_line": ["C3", "C4", "C7", "C11"],
    "category": list(CATEGORIES),
    "sdg": [1, 2, 3, 4, 17],
    "region": [Region.AFRICA, Region.EUROPE, Region.AMERICAS, Region.CIS],
    "country": ["KE", "BR", "FR", "DE"],
    "stakeholder_type": [*STAKEHOLDER_TYPES, StakeholderType.ACADEMIA],
    "status": list(STATUSES[:5]),
}


@st.composite
def queries(draw: st.DrawFn) -> SearchQuery:
    chosen = draw(st.sets(st.sampled_from(FACETS), max_size=3))
    filters = {
        facet: frozenset(draw(st.sets(st.sampled_from(FACET_CHOICES[facet]), max_size=2)))
        for facet in chosen
    }
    words = draw(st.lists(st.sampled_from(WORDS + list(FRAGMENTS)), max_size=3))
    text = " ".join(words) + draw(st.sampled_from(["", "", " ", "!"]))
    after = draw(
        st.none()
        | st.builds(Cursor, st.sampled_from([*EDITIONS, 2024, 2030]), st.sampled_from(ENTRY_IDS))
    )
    return SearchQuery(text=text, filters=filters, limit=draw(st.integers(1, 5)), after=after)


# --- the reference: a brute-force filter over the entries ---------------------------------------


def _stems(entry: SearchableEntry) -> set[str]:
    return set(ANALYZER.stems(sorted(ANALYZER.distinct_words("\n".join(entry.text)))))


def _text_matches(entries: Iterable[SearchableEntry], text: str) -> set[str]:
    everything = list(entries)
    query = ANALYZER.query(text)
    if not query.restricts:
        return {entry.entry_id for entry in everything}
    prefix_stems: set[str] = set()
    if query.prefix is not None:
        words = {w for e in everything for w in ANALYZER.distinct_words("\n".join(e.text))}
        completions = sorted(word for word in words if word.startswith(query.prefix))
        prefix_stems = {ANALYZER.stem(query.prefix), *ANALYZER.stems(completions)}
    return {
        entry.entry_id
        for entry in everything
        if set(query.stems) <= _stems(entry)
        and (query.prefix is None or prefix_stems & _stems(entry))
    }


def _values(entry: SearchableEntry, facet: Facet) -> set[FacetValue]:
    return {value for f, value in entry.facet_values() if f == facet}


def _passes(entry: SearchableEntry, filters: Mapping[Facet, frozenset[FacetValue]]) -> bool:
    return all(not values or _values(entry, f) & values for f, values in filters.items())


def expected(entries: Mapping[str, SearchableEntry], query: SearchQuery) -> SearchResult:
    by_text = _text_matches(entries.values(), query.text)
    candidates = [entry for entry in entries.values() if entry.entry_id in by_text]
    matches = [entry for entry in candidates if _passes(entry, query.filters)]
    ordered = sorted(matches, key=lambda entry: (-entry.edition, entry.entry_id))
    if query.after is not None:
        after = (-query.after.edition, query.after.entry_id)
        ordered = [entry for entry in ordered if (-entry.edition, entry.entry_id) > after]
    page = ordered[: query.limit]
    facets: dict[Facet, list[FacetCount]] = {}
    for facet in FACETS:
        others = {f: values for f, values in query.filters.items() if f != facet}
        counts: dict[FacetValue, int] = dict.fromkeys(query.filters.get(facet, ()), 0)
        for entry in candidates:
            if _passes(entry, others):
                for value in _values(entry, facet):
                    counts[value] = counts.get(value, 0) + 1
        facets[facet] = [
            FacetCount(value, count)
            for value, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
    last = page[-1] if len(ordered) > query.limit else None
    return SearchResult(
        entry_ids=[entry.entry_id for entry in page],
        total=len(matches),
        facets=facets,
        next_cursor=Cursor(last.edition, last.entry_id) if last else None,
    )


# --- properties --------------------------------------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), entries()),
        st.tuples(st.just("remove"), st.sampled_from(ENTRY_IDS)),
        st.tuples(st.just("search"), queries()),
    ),
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(
    initial=st.lists(entries(), max_size=10),
    steps=operations,
    final=queries(),
    postings_held_while_loading=st.sampled_from([0, 5, 1_000_000]),
)
def test_the_index_answers_what_a_brute_force_filter_answers(
    initial: list[SearchableEntry],
    steps: list[tuple[str, object]],
    final: SearchQuery,
    postings_held_while_loading: int,
) -> None:
    truth: dict[str, SearchableEntry] = {}
    index = SearchIndex.loading(ANALYZER)
    with patch.object(search_index, "_PENDING_SLOTS_LIMIT", postings_held_while_loading):
        for entry in initial:
            index.put(entry)
            truth[entry.entry_id] = entry
    index.finish_loading()
    for action, argument in steps:
        if action == "put":
            assert isinstance(argument, SearchableEntry)
            index.put(argument)
            truth[argument.entry_id] = argument
        elif action == "remove":
            assert isinstance(argument, str)
            index.remove(argument)
            truth.pop(argument, None)
        else:
            assert isinstance(argument, SearchQuery)
            assert index.search(argument) == expected(truth, argument)
    assert index.search(final) == expected(truth, final)
    assert len(index) == len(truth)


@settings(max_examples=150, deadline=None)
@given(
    initial=st.lists(entries(), min_size=1, max_size=12),
    query=queries(),
    arrivals=st.lists(st.lists(entries(), max_size=3), max_size=8),
    limit=st.integers(1, 3),
)
def test_cursor_pages_never_repeat_or_skip_an_entry_while_entries_arrive(
    initial: list[SearchableEntry],
    query: SearchQuery,
    arrivals: list[list[SearchableEntry]],
    limit: int,
) -> None:
    index = SearchIndex()
    editions: dict[str, int] = {}
    for entry in initial:
        index.put(entry)
        editions[entry.entry_id] = entry.edition
    query = replace(query, limit=limit, after=None)
    from_the_start = index.search(replace(query, limit=100)).entry_ids
    seen: list[str] = []
    result = index.search(query)
    for page_number in range(100):
        seen.extend(result.entry_ids)
        if result.next_cursor is None:
            break
        # New entries arrive between pages (ids of their own: the old ones stay as they were).
        for entry in arrivals[page_number] if page_number < len(arrivals) else []:
            arrived = replace(entry, entry_id=f"new-{page_number}-{entry.entry_id}")
            index.put(arrived)
            editions[arrived.entry_id] = arrived.edition
        token = result.next_cursor.encode()
        result = index.search(replace(query, after=Cursor.decode(token)))
    keys = [(-editions[entry_id], entry_id) for entry_id in seen]
    assert keys == sorted(set(keys)), "in page order, no entry twice"
    assert set(from_the_start) <= set(seen), "every entry there from the start is on a page"
    if not arrivals:
        assert seen == from_the_start, "without arrivals the pages are exactly the full result"


@settings(max_examples=100, deadline=None)
@given(all_entries=st.lists(entries(), max_size=12), limit=st.integers(1, 4))
def test_pages_follow_newest_edition_first_then_entry_id(
    all_entries: list[SearchableEntry], limit: int
) -> None:
    index = SearchIndex()
    for entry in all_entries:
        index.put(entry)
    editions = {entry.entry_id: entry.edition for entry in all_entries}
    seen: list[str] = []
    after = None
    while True:
        result = index.search(SearchQuery(limit=limit, after=after))
        seen.extend(result.entry_ids)
        if result.next_cursor is None:
            break
        after = result.next_cursor
    assert seen == sorted(editions, key=lambda entry_id: (-editions[entry_id], entry_id))


# --- examples ----------------------------------------------------------------------------------


def _entry(entry_id: str = "e1", **changes: object) -> SearchableEntry:
    entry = SearchableEntry(
        entry_id=entry_id,
        edition=2027,
        status="submitted",
        category=Category.C4,
        action_lines=(ActionLine.C4,),
        sdgs=(4,),
        region=Region.AFRICA,
        country="KE",
        stakeholder_type=StakeholderType.CIVIL_SOCIETY,
        title="Solar schools",
        short_description="Solar-powered classrooms for rural schools.",
        organisation_name="Sunny Foundation",
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


def _ids(index: SearchIndex, text: str = "", **filters: Iterable[FacetValue]) -> list[str]:
    query = SearchQuery(
        text=text,
        filters={facet: frozenset(values) for facet, values in filters.items()},  # type: ignore[misc]
        limit=100,
    )
    return index.search(query).entry_ids


def _counts(result: SearchResult, facet: Facet) -> dict[FacetValue, int]:
    return {count.value: count.entries for count in result.facets[facet]}


def test_an_amended_entry_is_found_under_its_new_category_only() -> None:
    index = SearchIndex()
    index.put(_entry(category=Category.C4))
    index.put(_entry(category=Category.C7_E_HEALTH, title="Telemedicine vans"))
    assert _ids(index, category=[Category.C4]) == []
    assert _ids(index, category=[Category.C7_E_HEALTH]) == ["e1"]
    assert _ids(index, action_line=["C7"]) == ["e1"], "the category's action line"
    assert _ids(index, action_line=["C4"]) == ["e1"], "an action line the entry names"
    assert _ids(index, "solar") == ["e1"], "the description still says solar"
    assert _ids(index, "telemedicine") == ["e1"]
    assert _ids(index, "schools solar sunny") == ["e1"]
    index.put(_entry(category=Category.C7_E_HEALTH, title="Vans", short_description="Clinics"))
    assert _ids(index, "solar") == []
    assert _ids(index, "sola") == [], "a word gone from every entry completes no prefix"


def test_a_status_change_moves_the_entry_between_status_values() -> None:
    index = SearchIndex()
    index.put(_entry(status="eligible"))
    index.put(_entry(status="nominated"))
    result = index.search(SearchQuery())
    assert _counts(result, "status") == {"nominated": 1}
    assert _ids(index, status=["eligible"]) == []


def test_withdrawn_entries_stay_findable_with_their_status() -> None:
    index = SearchIndex()
    index.put(_entry("e1", status="withdrawn"))
    index.put(_entry("e2", status="nominated"))
    assert _ids(index, "solar") == ["e1", "e2"]
    assert _ids(index, "solar", status=["nominated"]) == ["e2"]


def test_facet_counts_leave_out_their_own_filter() -> None:
    index = SearchIndex()
    index.put(_entry("e1", region=Region.AFRICA, country="KE"))
    index.put(_entry("e2", region=Region.EUROPE, country="FR"))
    index.put(_entry("e3", region=Region.EUROPE, country="FR", sdgs=(5,)))
    result = index.search(
        SearchQuery(filters={"region": frozenset({Region.AFRICA}), "sdg": frozenset({4})})
    )
    assert result.entry_ids == ["e1"]
    assert _counts(result, "region") == {Region.EUROPE: 1, Region.AFRICA: 1}
    assert _counts(result, "sdg") == {4: 1}, "SDG 5 is in Europe only"
    assert _counts(result, "country") == {"KE": 1}
    assert [c.value for c in result.facets["region"]] == [Region.AFRICA, Region.EUROPE]


def test_a_selected_value_without_entries_is_listed_with_zero() -> None:
    index = SearchIndex()
    index.put(_entry())
    result = index.search(SearchQuery(filters={"country": frozenset({"BR"})}))
    assert result.total == 0
    assert _counts(result, "country") == {"KE": 1, "BR": 0}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("schools", True),
        ("SCHOOL", True),
        ("schooling", True),  # same stem
        ("sola", True),  # the last word completes
        ("sola ", False),  # a space after it: the word is complete
        ("sola.", False),
        ("sol schools", False),  # only the last word completes
        ("s", False),  # one letter completes nothing
        ("classroom", True),
        ("classro", True),
        ("sunny foundation", True),
        ("solar water", False),  # every word must match
        ("the", True),  # nothing but stop words: no restriction
        ("of the solar", True),
        ("", True),
    ],
)
def test_text_matching(text: str, found: bool) -> None:
    index = SearchIndex()
    index.put(_entry())
    assert (_ids(index, text) == ["e1"]) is found


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_has_the_words_the_unicode_rules_find(text: str) -> None:
    # A no-break space is a separator outside ASCII: the text goes the Unicode way.
    assert ANALYZER.distinct_words(text) == ANALYZER.distinct_words(text + "\u00a0")


def test_a_prefix_finds_a_word_whose_stem_is_shorter_than_the_prefix() -> None:
    index = SearchIndex()
    index.put(_entry(title="National broadband plan"))  # "national" is stemmed to "nation"
    assert _ids(index, "nationa") == ["e1"]
    assert _ids(index, "nation") == ["e1"]


def test_a_prefix_finds_every_word_with_the_stem_of_a_completion() -> None:
    index = SearchIndex()
    index.put(_entry("e1", title="National broadband plan"))
    index.put(_entry("e2", title="One nation online"))
    assert _ids(index, "nationa") == ["e1", "e2"], "national and nation share their stem"
    index.remove("e1")
    assert _ids(index, "nationa") == [], "no word left begins with nationa"


def test_accents_and_partners_are_searchable() -> None:
    index = SearchIndex()
    index.put(_entry(partners=("Université Félix Houphouët-Boigny",)))
    assert _ids(index, "universite felix") == ["e1"]
    assert _ids(index, "Houphouët") == ["e1"]


def test_a_removed_entry_leaves_nothing_behind() -> None:
    index = SearchIndex()
    index.put(_entry("e1"))
    index.remove("e1")
    index.remove("never-there")
    result = index.search(SearchQuery())
    assert (result.total, result.entry_ids, len(index), index.vocabulary_size) == (0, [], 0, 0)
    assert all(counts == [] for counts in result.facets.values())


def test_an_index_being_loaded_cannot_be_searched() -> None:
    index = SearchIndex.loading()
    index.put(_entry())
    with pytest.raises(RuntimeError):
        index.search(SearchQuery())
    index.finish_loading()
    assert index.search(SearchQuery()).entry_ids == ["e1"]


def test_a_cursor_survives_its_round_trip_and_the_removal_of_its_entry() -> None:
    index = SearchIndex()
    for entry_id in ("a", "b", "c"):
        index.put(_entry(entry_id))
    first = index.search(SearchQuery(limit=1))
    assert first.next_cursor == Cursor(2027, "a")
    index.remove("a")
    token = first.next_cursor.encode()
    assert index.search(SearchQuery(limit=5, after=Cursor.decode(token))).entry_ids == ["b", "c"]


@pytest.mark.parametrize(
    "token",
    ["", "garbage!", "bm90IGpzb24", Cursor(2027, "a").encode()[:-3], "WzIsMjAyNywiYSJd", "WzFd"],
)
def test_a_damaged_or_foreign_cursor_is_refused_with_a_reason(token: str) -> None:
    with pytest.raises(InvalidCursor, match="start again from the first page"):
        Cursor.decode(token)


def _document(**changes: Any) -> dict[str, Any]:
    """A catalogue document as the projections write it (see adapters/catalogue.py)."""
    entry = EntryPublic(
        entry_id="e1",
        category=Category.C7_E_HEALTH,
        title="Telemedicine",
        short_description="Clinics",
        organisation_id="org-1",
        organisation_name="Health Org",
        country="ke",
        region=Region.AFRICA,
        stakeholder_type=StakeholderType.GOVERNMENT,
        action_lines=(ActionLine.C1,),
        sdgs=(3,),
        partners=("WHO",),
    )
    document = {"_id": "e1", "edition": 2026, "entry": entry.model_dump(mode="python")}
    return document | changes


def test_a_catalogue_document_is_searched_with_its_status_and_facets() -> None:
    searchable = search_index_sync.searchable(_document(nominated=True, votes=3))
    assert searchable is not None
    assert searchable.facet_values() == {
        ("edition", 2026),
        ("category", Category.C7_E_HEALTH),
        ("action_line", ActionLine.C7),
        ("action_line", ActionLine.C1),
        ("sdg", 3),
        ("region", Region.AFRICA),
        ("country", "KE"),
        ("stakeholder_type", StakeholderType.GOVERNMENT),
        ("status", "nominated"),
    }
    assert "WHO" in searchable.text
    assert search_index_sync.searchable(_document(withdrawn=True, winner=True)) == replace(
        searchable, status="withdrawn"
    )


def test_a_record_without_its_entry_or_with_an_unreadable_one_is_not_searchable() -> None:
    assert search_index_sync.searchable({"_id": "e1", "edition": 2027, "votes": 3}) is None
    broken = _document()
    broken["entry"]["category"] = "C99"
    assert search_index_sync.searchable(broken) is None


def test_kept_facet_counts_serve_the_next_pages_and_never_outlive_a_change() -> None:
    index = SearchIndex()
    index.put(_entry("e1"))
    index.put(_entry("e2", country="SN"))
    first = index.search(SearchQuery(text="solar", limit=1))
    assert first.next_cursor is not None
    second = index.search(SearchQuery(text="solar", limit=1, after=first.next_cursor))
    assert second.facets == first.facets
    assert index.facet_counts_reused == 1, "the next page counts nothing again"

    index.put(_entry("e2", country="SN"))  # the same entry again (a new vote count): no change
    assert index.search(SearchQuery(text="solar")).facets == first.facets
    assert index.facet_counts_reused == 2

    index.put(_entry("e2", country="GH"))
    assert _counts(index.search(SearchQuery(text="solar")), "country") == {"KE": 1, "GH": 1}
    index.put(_entry("e3", title="Solar boats"))
    assert _counts(index.search(SearchQuery(text="solar")), "country") == {"KE": 2, "GH": 1}
    index.remove("e1")
    assert _counts(index.search(SearchQuery(text="solar")), "country") == {"KE": 1, "GH": 1}
    assert index.facet_counts_reused == 2
