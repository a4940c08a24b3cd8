"""The figures of the two annual publications: the WSIS Stocktaking Report and the WSIS Success
Stories.

Pure: figures are computed from catalogue entries and contributions handed in by the caller, in
one pass, so a catalogue of a hundred thousand entries is streamed rather than held. Every choice
that could vary between runs (iteration order, ties, the date of the report) is fixed here, so
the same inputs always give the same figures, and so byte-identical documents.

Which entries a report counts is a decision readers must be able to see, so it is stated in the
report itself (`COUNTING_RULE`): every entry of the edition that was submitted and is not
withdrawn, whatever the review or the vote later made of it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterable, Iterable
from datetime import UTC, datetime
from typing import Final, Literal, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict

from wsis_shared.vocabulary import (
    CATEGORY_NAMES,
    SDG_NAMES,
    ActionLine,
    Category,
    Region,
    StakeholderType,
    action_line_of,
)
from wsis_stocktaking.domain.catalogue import CatalogueRecord
from wsis_stocktaking.domain.contributions import Tag

ReportKind = Literal["stocktaking-report", "success-stories"]
REPORT_KINDS: Final[tuple[ReportKind, ...]] = ("stocktaking-report", "success-stories")
ReportFormat = Literal["html", "pdf", "csv", "json"]

SDGS: Final = tuple(range(1, 18))
_VALID_SDGS: Final = frozenset(SDGS)
ACTION_LINE_NAMES: Final[dict[ActionLine, str]] = {
    line: (
        "ICT applications: benefits in all aspects of life"
        if line is ActionLine.C7
        else CATEGORY_NAMES[Category(line.value)]
    )
    for line in ActionLine
}
STAKEHOLDER_NAMES: Final[dict[StakeholderType, str]] = {
    kind: kind.value.capitalize() for kind in StakeholderType
}

COUNTING_RULE: Final = (
    "This report counts every entry of the edition that was submitted to the WSIS Prizes and "
    "has not been withdrawn, whatever the review or the public vote later decided. Each entry "
    "counts once in its category, once for each action line it concerns (the action line of its "
    "category and any further action line it names) and once for each SDG it names, so the "
    "figures by action line and by SDG add up to more than the number of entries."
)
CONTRIBUTION_RULE: Final = (
    "Contributions are the reports organisations sent on how they implemented the WSIS outcomes "
    "in the year of the edition. A contribution counts for an action line when it names the "
    "action line explicitly or an editor confirmed or added the tag; a tag inferred from the "
    "vocabulary of the text counts only once an editor confirmed it, and a rejected tag never "
    "counts."
)

HIGHLIGHTS_PER_ACTION_LINE: Final = 5
"""Highlights are a showcase, not a listing: the PDF must stay readable with a thousand
contributions."""

SUGGESTION_MIN_CONFIDENCE: Final = 0.7
"""Unconfirmed inferred tags this confident are shown (marked "suggested") for an action line
that has no contribution in effect, so the report says what is waiting for an editor instead of
being silently empty."""

EVIDENCE_MAX_CHARS: Final = 400

HighlightBasis = Literal["in-effect", "suggested", "none"]
StoryRole = Literal["winner", "champion"]


# --- inputs ---------------------------------------------------------------------------------

_ACTION_LINE_OF_CATEGORY: Final = {category: action_line_of(category) for category in Category}


def _in_utc(moment: datetime | None) -> datetime | None:
    """The catalogue keeps UTC: a time read without its zone is one in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class ReportEntry(NamedTuple):
    """The facts of one catalogue entry that the Stocktaking Report counts.

    A tuple, not a model: a hundred thousand of them are made per report, and a tuple is the
    cheapest immutable record Python has. `updated_at` is UTC, with or without its zone (the
    entries of one report alike: a reader may skip the zone, which is costly to decode)."""

    entry_id: str
    category: Category
    action_lines: frozenset[ActionLine]
    sdgs: frozenset[int]
    region: Region
    stakeholder_type: StakeholderType
    country: str
    withdrawn: bool = False
    nominated: bool = False
    champion: bool = False
    winner: bool = False
    updated_at: datetime | None = None

    @staticmethod
    def action_lines_of(category: Category, named: Iterable[ActionLine]) -> frozenset[ActionLine]:
        """The action line of the category (C7.* → C7) and every further one the entry names."""
        return frozenset((_ACTION_LINE_OF_CATEGORY[category], *named))

    @classmethod
    def of(cls, record: CatalogueRecord) -> ReportEntry | None:
        """None for a record whose submission has not been seen yet (only later facts were)."""
        entry = record.entry
        if entry is None:
            return None
        return cls(
            entry_id=record.entry_id,
            category=entry.category,
            action_lines=cls.action_lines_of(entry.category, entry.action_lines),
            sdgs=frozenset(entry.sdgs),
            region=entry.region,
            stakeholder_type=entry.stakeholder_type,
            country=entry.country,
            withdrawn=record.withdrawn,
            nominated=record.nominated is True,
            champion=record.champion,
            winner=record.winner,
            updated_at=_in_utc(record.updated_at),
        )


class ContributionDigest(BaseModel):
    """What a report reads of a contribution: never its full text, which may be a whole PDF."""

    model_config = ConfigDict(frozen=True)

    contribution_id: str
    edition: int
    organisation: str
    title: str
    submitted_at: AwareDatetime
    tags: tuple[Tag, ...] = ()

    def action_line_tags(self) -> list[tuple[ActionLine, Tag]]:
        """Each action-line tag with the action line it counts for ("C7.e-health" → C7); tags
        whose code is not an action line are ignored rather than failing the report."""
        found = []
        for tag in self.tags:
            if tag.kind != "action_line":
                continue
            line = _action_line_of_code(tag.code)
            if line is not None:
                found.append((line, tag))
        return found


def _action_line_of_code(code: str) -> ActionLine | None:
    try:
        return ActionLine(code.strip().split(".", 1)[0].upper())
    except ValueError:
        return None


def _is_suggestion(tag: Tag) -> bool:
    return tag.source == "inferred" and tag.decision is None


# --- the Stocktaking Report -----------------------------------------------------------------


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Count(Frozen):
    code: str
    label: str
    count: int
    share_percent: float


class MatrixRow(Frozen):
    action_line: ActionLine
    label: str
    counts: tuple[int, ...]
    """Entries concerning this action line and each SDG, SDG 1 first."""


class Highlight(Frozen):
    contribution_id: str
    organisation: str
    title: str
    evidence: str | None
    confidence: float
    suggested: bool


class ActionLineContributions(Frozen):
    action_line: ActionLine
    label: str
    in_effect: int
    awaiting_editor: int
    """Contributions with an unconfirmed inferred tag for this action line and none in effect."""
    highlights_basis: HighlightBasis
    highlights: tuple[Highlight, ...]


class Headline(Frozen):
    entries_counted: int
    entries_withdrawn: int
    countries: int
    nominated: int
    finalists: int
    winners: int
    entries_without_sdg: int
    contributions: int
    contributions_in_effect: int


class StocktakingReport(Frozen):
    kind: Literal["stocktaking-report"] = "stocktaking-report"
    edition: int
    as_of: datetime | None
    """The newest change among the inputs: the report is dated by its data, not by the clock."""
    counting_rule: str = COUNTING_RULE
    contribution_rule: str = CONTRIBUTION_RULE
    headline: Headline
    by_action_line: tuple[Count, ...]
    by_category: tuple[Count, ...]
    by_region: tuple[Count, ...]
    by_stakeholder_type: tuple[Count, ...]
    by_sdg: tuple[Count, ...]
    matrix: tuple[MatrixRow, ...]
    matrix_max: int
    contributions: tuple[ActionLineContributions, ...]
    contributions_note: str | None


def _share(count: int, total: int) -> float:
    return round(100.0 * count / total, 1) if total else 0.0


def _newest(current: datetime | None, candidate: datetime | None) -> datetime | None:
    candidate = _in_utc(candidate)
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


def excerpt(text: str | None, limit: int = EVIDENCE_MAX_CHARS) -> str | None:
    """The evidence sentence on one line, cut at a word boundary when it is too long."""
    if text is None:
        return None
    flat = re.sub(r"\s+", " ", text).strip()
    if not flat:
        return None
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


class StocktakingTally:
    """Accumulates the figures of one edition in a single pass over its entries and
    contributions; `report()` may be called at any time and does not consume the tally.

    Per entry it only counts the entry's profile (its action lines and SDGs; its category,
    region and stakeholder type): a hundred thousand entries fall into far fewer profiles, and
    every figure is expanded from the profiles once, at the end."""

    def __init__(self, edition: int) -> None:
        self.edition = edition
        self.entries_seen = 0
        self._withdrawn = 0
        self._nominated = 0
        self._finalists = 0
        self._winners = 0
        self._countries: set[str] = set()
        self._kinds: Counter[tuple[Category, Region, StakeholderType]] = Counter()
        self._themes: Counter[tuple[frozenset[ActionLine], frozenset[int]]] = Counter()
        self._as_of: datetime | None = None
        self._contributions: dict[str, ContributionDigest] = {}

    def add_entry(self, entry: ReportEntry) -> None:
        self.entries_seen += 1
        # Withdrawn entries are not counted, but a withdrawal is a change of the data: it dates
        # the report as much as a submission does.
        updated_at = entry.updated_at
        if updated_at is not None and (self._as_of is None or updated_at > self._as_of):
            self._as_of = updated_at
        if entry.withdrawn:
            self._withdrawn += 1
            return
        if entry.winner:
            self._winners += 1
        if entry.winner or entry.champion:
            self._finalists += 1
            self._nominated += 1
        elif entry.nominated:
            self._nominated += 1
        self._countries.add(entry.country.upper())
        self._kinds[entry.category, entry.region, entry.stakeholder_type] += 1
        self._themes[entry.action_lines, entry.sdgs & _VALID_SDGS] += 1

    def add_contribution(self, contribution: ContributionDigest) -> None:
        """Contributions of another edition are ignored; a contribution seen twice counts once."""
        if contribution.edition != self.edition:
            return
        self._contributions[contribution.contribution_id] = contribution

    def report(self) -> StocktakingReport:
        categories: Counter[Category] = Counter()
        regions: Counter[Region] = Counter()
        stakeholders: Counter[StakeholderType] = Counter()
        for (category, region, stakeholder), count in self._kinds.items():
            categories[category] += count
            regions[region] += count
            stakeholders[stakeholder] += count
        action_lines: Counter[ActionLine] = Counter()
        sdgs: Counter[int] = Counter()
        pairs: Counter[tuple[ActionLine, int]] = Counter()
        without_sdg = 0
        for (lines, goals), count in self._themes.items():
            if not goals:
                without_sdg += count
            for line in lines:
                action_lines[line] += count
                for goal in goals:
                    pairs[line, goal] += count
            for goal in goals:
                sdgs[goal] += count
        total = sum(categories.values())
        as_of = _in_utc(self._as_of)
        for contribution in self._contributions.values():
            as_of = _newest(as_of, contribution.submitted_at)
        by_line = _contributions_by_action_line(self._contributions.values())
        in_effect_anywhere = {
            contribution.contribution_id
            for contribution in self._contributions.values()
            if any(tag.in_effect for _, tag in contribution.action_line_tags())
        }
        matrix = tuple(
            MatrixRow(
                action_line=line,
                label=ACTION_LINE_NAMES[line],
                counts=tuple(pairs[line, sdg] for sdg in SDGS),
            )
            for line in ActionLine
        )

        def figure(code: str, label: str, value: int) -> Count:
            return Count(code=code, label=label, count=value, share_percent=_share(value, total))

        return StocktakingReport(
            edition=self.edition,
            as_of=as_of,
            headline=Headline(
                entries_counted=total,
                entries_withdrawn=self._withdrawn,
                countries=len(self._countries),
                nominated=self._nominated,
                finalists=self._finalists,
                winners=self._winners,
                entries_without_sdg=without_sdg,
                contributions=len(self._contributions),
                contributions_in_effect=len(in_effect_anywhere),
            ),
            by_action_line=tuple(
                figure(line.value, ACTION_LINE_NAMES[line], action_lines[line])
                for line in ActionLine
            ),
            by_category=tuple(
                figure(category.value, CATEGORY_NAMES[category], categories[category])
                for category in Category
            ),
            by_region=tuple(
                figure(region.value, region.value, regions[region]) for region in Region
            ),
            by_stakeholder_type=tuple(
                figure(kind.value, STAKEHOLDER_NAMES[kind], stakeholders[kind])
                for kind in StakeholderType
            ),
            by_sdg=tuple(figure(f"SDG{sdg}", SDG_NAMES[sdg], sdgs[sdg]) for sdg in SDGS),
            matrix=matrix,
            matrix_max=max((value for row in matrix for value in row.counts), default=0),
            contributions=by_line,
            contributions_note=_contributions_note(len(self._contributions), by_line),
        )


def _highlight(contribution: ContributionDigest, tag: Tag, *, suggested: bool) -> Highlight:
    return Highlight(
        contribution_id=contribution.contribution_id,
        organisation=contribution.organisation,
        title=contribution.title,
        evidence=excerpt(tag.evidence),
        confidence=tag.confidence,
        suggested=suggested,
    )


def _best(
    candidates: dict[str, tuple[ContributionDigest, Tag]], *, suggested: bool
) -> tuple[Highlight, ...]:
    """The most confident first, then the most recent, then by id: a total order, so the same
    contributions always give the same highlights."""
    ranked = sorted(
        candidates.values(),
        key=lambda pair: (
            -pair[1].confidence,
            -pair[0].submitted_at.timestamp(),
            pair[0].contribution_id,
        ),
    )
    return tuple(
        _highlight(contribution, tag, suggested=suggested)
        for contribution, tag in ranked[:HIGHLIGHTS_PER_ACTION_LINE]
    )


def _stronger(current: tuple[ContributionDigest, Tag] | None, tag: Tag) -> bool:
    """Whether `tag` is better evidence than the one kept for the same contribution and line
    (a contribution may carry both "C7" and "C7.e-health")."""
    if current is None:
        return True
    kept = current[1]
    return (tag.confidence, tag.evidence is not None, kept.code) > (
        kept.confidence,
        kept.evidence is not None,
        tag.code,
    )


def _contributions_by_action_line(
    contributions: Iterable[ContributionDigest],
) -> tuple[ActionLineContributions, ...]:
    in_effect: dict[ActionLine, dict[str, tuple[ContributionDigest, Tag]]] = {
        line: {} for line in ActionLine
    }
    suggested: dict[ActionLine, dict[str, tuple[ContributionDigest, Tag]]] = {
        line: {} for line in ActionLine
    }
    for contribution in contributions:
        for line, tag in contribution.action_line_tags():
            if tag.in_effect:
                bucket = in_effect[line]
            elif _is_suggestion(tag):
                bucket = suggested[line]
            else:
                continue
            key = contribution.contribution_id
            if _stronger(bucket.get(key), tag):
                bucket[key] = (contribution, tag)
    sections = []
    for line in ActionLine:
        waiting = {key: pair for key, pair in suggested[line].items() if key not in in_effect[line]}
        basis: HighlightBasis
        if in_effect[line]:
            basis, highlights = "in-effect", _best(in_effect[line], suggested=False)
        else:
            confident = {
                key: pair
                for key, pair in waiting.items()
                if pair[1].confidence >= SUGGESTION_MIN_CONFIDENCE
            }
            highlights = _best(confident, suggested=True)
            basis = "suggested" if highlights else "none"
        sections.append(
            ActionLineContributions(
                action_line=line,
                label=ACTION_LINE_NAMES[line],
                in_effect=len(in_effect[line]),
                awaiting_editor=len(waiting),
                highlights_basis=basis,
                highlights=highlights,
            )
        )
    return tuple(sections)


def _contributions_note(
    contributions: int, sections: tuple[ActionLineContributions, ...]
) -> str | None:
    if contributions == 0:
        return "No contribution has been received for this edition yet."
    if not any(section.in_effect for section in sections):
        return (
            "No contribution counts for an action line yet: none names an action line "
            "explicitly and no editor has confirmed the tags inferred from the texts. The "
            "highlights shown are the most confident machine suggestions, marked as suggested, "
            "until an editor confirms or rejects them."
        )
    if any(section.highlights_basis == "suggested" for section in sections):
        return (
            "Where no contribution counts for an action line yet, the most confident machine "
            "suggestions are shown instead, marked as suggested, until an editor confirms or "
            "rejects them."
        )
    return None


def stocktaking_report(
    edition: int,
    entries: Iterable[ReportEntry],
    contributions: Iterable[ContributionDigest] = (),
) -> StocktakingReport:
    tally = StocktakingTally(edition)
    for entry in entries:
        tally.add_entry(entry)
    for contribution in contributions:
        tally.add_contribution(contribution)
    return tally.report()


async def stocktaking_report_from_streams(
    edition: int,
    entries: AsyncIterable[ReportEntry],
    contributions: AsyncIterable[ContributionDigest],
) -> StocktakingReport:
    """The same figures from streams, so the caller never holds the whole catalogue."""
    tally = StocktakingTally(edition)
    async for entry in entries:
        tally.add_entry(entry)
    async for contribution in contributions:
        tally.add_contribution(contribution)
    return tally.report()


# --- the Success Stories --------------------------------------------------------------------


class SuccessStory(Frozen):
    entry_id: str
    role: StoryRole
    title: str
    organisation: str
    country: str
    region: Region
    stakeholder_type: StakeholderType
    description: str
    impact: str | None
    website: str | None


class CategoryStories(Frozen):
    category: Category
    label: str
    stories: tuple[SuccessStory, ...]
    """The winner first, then the champions by title."""


class SuccessStoriesReport(Frozen):
    kind: Literal["success-stories"] = "success-stories"
    edition: int
    as_of: datetime | None
    selection_rule: str = (
        "The winner and the champions of each of the 18 prize categories, as the expert group "
        "and the public vote decided them; an entry withdrawn since is left out."
    )
    winners: int
    champions: int
    categories: tuple[CategoryStories, ...]


def success_stories(edition: int, records: Iterable[CatalogueRecord]) -> SuccessStoriesReport:
    """Records of other editions, without a submission, withdrawn, or neither winner nor
    champion are not stories; the caller may pass the whole catalogue."""
    by_category: dict[Category, list[SuccessStory]] = {category: [] for category in Category}
    as_of: datetime | None = None
    for record in records:
        entry = record.entry
        if (
            entry is None
            or record.edition != edition
            or record.withdrawn
            or not (record.winner or record.champion)
        ):
            continue
        as_of = _newest(as_of, record.updated_at)
        by_category[entry.category].append(
            SuccessStory(
                entry_id=record.entry_id,
                role="winner" if record.winner else "champion",
                title=entry.title,
                organisation=entry.organisation_name,
                country=entry.country,
                region=entry.region,
                stakeholder_type=entry.stakeholder_type,
                description=entry.short_description,
                impact=entry.impact_qualitative,
                website=entry.website,
            )
        )
    categories = tuple(
        CategoryStories(
            category=category,
            label=CATEGORY_NAMES[category],
            stories=tuple(
                sorted(
                    stories,
                    key=lambda story: (
                        story.role != "winner",
                        story.title.casefold(),
                        story.entry_id,
                    ),
                )
            ),
        )
        for category, stories in by_category.items()
    )
    every_story = [story for section in categories for story in section.stories]
    return SuccessStoriesReport(
        edition=edition,
        as_of=as_of,
        winners=sum(story.role == "winner" for story in every_story),
        champions=sum(story.role == "champion" for story in every_story),
        categories=categories,
    )


Report = StocktakingReport | SuccessStoriesReport
