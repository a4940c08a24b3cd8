"""Filing, listing and correcting contributions, on in-memory repositories (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.in_memory import EventRecorder, InMemoryRunner
from wsis_shared.auth import Principal
from wsis_shared.errors import AlreadyExists, Forbidden, InvalidInput, NotFound
from wsis_shared.vocabulary import Role
from wsis_stocktaking.adapters.documents import DocumentLimits, read_document, read_submitted_text
from wsis_stocktaking.domain.contributions import Contribution, ContributionFormat, ExtractedText
from wsis_stocktaking.domain.tagging import suggest_tags
from wsis_stocktaking.service_layer import contributions as use_cases
from wsis_stocktaking.service_layer.contributions import (
    ContributionQuery,
    ContributionSummary,
    Filing,
    Original,
    PageCursor,
    TagChanges,
)

EDITION = 2026
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SUBMITTER = Principal(subject="amina", roles=frozenset({Role.SUBMITTER}), organisation_id="org-1")
OTHER_SUBMITTER = Principal(
    subject="bruno", roles=frozenset({Role.SUBMITTER}), organisation_id="org-2"
)
ADMIN = Principal(subject="editor-1", roles=frozenset({Role.ADMIN}))

SCHOOLS = """\
Connecting schools in the highlands

Under Action Line C2 the Agency connected 85 rural schools to broadband in 2026, contributing
to SDG 4. Teachers in those schools followed online courses on a new learning management system,
and students now use digital classrooms.
"""
CLINICS = """\
Telemedicine for island clinics

Nurses on six islands now hold telemedicine consultations with the referral hospital and keep
electronic health records for every patient.
"""


# --- in-memory repositories ---------------------------------------------------------------------


@dataclass
class State:
    contributions: dict[str, Contribution] = field(default_factory=dict)


def _matches(contribution: Contribution, query: ContributionQuery) -> bool:
    codes = (
        contribution.codes_suggested()
        if query.include_suggested
        else contribution.codes_in_effect()
    )
    return (
        (query.edition is None or contribution.edition == query.edition)
        and (query.code is None or query.code in codes)
        and (
            query.organisation is None
            or contribution.organisation.casefold() == query.organisation.casefold()
        )
        and (query.organisation_id is None or contribution.organisation_id == query.organisation_id)
        and (query.awaiting_review is None or contribution.awaits_review == query.awaiting_review)
    )


class InMemoryContributions:
    def __init__(self, items: dict[str, Contribution]) -> None:
        self.items = items

    async def add(self, contribution: Contribution) -> None:
        if await self.find_by_fingerprint(contribution.fingerprint) is not None:
            raise AlreadyExists("already filed")
        self.items[contribution.contribution_id] = contribution.model_copy(deep=True)

    async def get(self, contribution_id: str) -> Contribution:
        found = self.items.get(contribution_id)
        if found is None:
            raise NotFound(f"no contribution {contribution_id}")
        return found.model_copy(deep=True)

    async def save(self, contribution: Contribution) -> None:
        self.items[contribution.contribution_id] = contribution.model_copy(deep=True)

    async def find_by_fingerprint(self, fingerprint: str) -> Contribution | None:
        return next((c for c in self.items.values() if c.fingerprint == fingerprint), None)

    async def latest_of_organisation(self, organisation_id: str) -> Contribution | None:
        mine = [c for c in self.items.values() if c.organisation_id == organisation_id]
        return max(mine, key=lambda c: c.submitted_at, default=None)

    def _newest_first(self, query: ContributionQuery) -> list[Contribution]:
        found = [c for c in self.items.values() if _matches(c, query)]
        return sorted(found, key=lambda c: (c.submitted_at, c.contribution_id), reverse=True)

    async def search(
        self, query: ContributionQuery, *, limit: int, after: PageCursor | None
    ) -> list[ContributionSummary]:
        found = self._newest_first(query)
        if after is not None:
            found = [
                c
                for c in found
                if (c.submitted_at, c.contribution_id) < (after.submitted_at, after.contribution_id)
            ]
        return [ContributionSummary.of(c) for c in found[:limit]]

    async def count(self, query: ContributionQuery) -> int:
        return len(self._newest_first(query))


class InMemoryUnitOfWork(EventRecorder):
    def __init__(self, state: State) -> None:
        super().__init__()
        self.contributions = InMemoryContributions(state.contributions)


class InMemoryOriginals:
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, dict[str, str]]] = {}

    async def put(self, file_id: str, data: bytes, metadata: dict[str, str]) -> None:
        self.files[file_id] = (data, metadata)

    async def get(self, file_id: str) -> bytes:
        if file_id not in self.files:
            raise NotFound(f"no file {file_id}")
        return self.files[file_id][0]

    async def delete(self, file_id: str) -> None:
        self.files.pop(file_id, None)


@dataclass
class World:
    runner: InMemoryRunner[State, InMemoryUnitOfWork] = field(
        default_factory=lambda: InMemoryRunner(State(), InMemoryUnitOfWork)
    )
    originals: InMemoryOriginals = field(default_factory=InMemoryOriginals)

    @property
    def stored(self) -> dict[str, Contribution]:
        return self.runner.state.contributions

    async def file(
        self,
        text: str = SCHOOLS,
        *,
        by: Principal = SUBMITTER,
        title: str = "Connecting schools",
        organisation: str | None = "Highlands Digital Agency",
        organisation_id: str | None = None,
        edition: int = EDITION,
        at: datetime = T0,
        original: Original | None = None,
        extracted: ExtractedText | None = None,
    ) -> Contribution:
        return await use_cases.file_contribution(
            self.runner,
            self.originals,
            filing=Filing(
                edition=edition,
                title=title,
                organisation=organisation,
                organisation_id=organisation_id,
            ),
            extracted=extracted
            or read_submitted_text(text, format="text", limits=DocumentLimits()),
            original=original,
            by=by,
            now=at,
        )

    async def correct(self, contribution_id: str, **changes: object) -> Contribution:
        return await use_cases.correct_tags(
            self.runner,
            contribution_id=contribution_id,
            changes=TagChanges(**changes),  # type: ignore[arg-type]
            by=ADMIN,
            now=T0 + timedelta(days=1),
        )


@pytest.fixture
def world() -> World:
    return World()


def codes(contribution: Contribution, *, source: str | None = None) -> set[str]:
    return {t.code for t in contribution.tags if source is None or t.source == source}


# --- filing -------------------------------------------------------------------------------------


async def test_a_submitter_files_for_their_organisation_and_gets_suggested_tags(
    world: World,
) -> None:
    filed = await world.file()

    assert filed.organisation == "Highlands Digital Agency"
    assert filed.organisation_id == "org-1"
    assert filed.submitted_by == "amina"
    assert filed.format == "text"
    assert codes(filed, source="explicit") == {"C2", "SDG4"}
    assert {"C7.e-learning", "C7"} <= codes(filed, source="inferred")
    assert filed.tags_in_effect("action_line") == [t for t in filed.tags if t.code == "C2"]
    assert world.stored[filed.contribution_id] == filed


async def test_a_submitter_cannot_file_for_another_organisation(world: World) -> None:
    with pytest.raises(Forbidden, match=r"your own organisation \(org-1\)"):
        await world.file(organisation_id="org-2")
    assert world.stored == {}


async def test_a_submitter_without_an_organisation_cannot_file(world: World) -> None:
    loner = Principal(subject="x", roles=frozenset({Role.SUBMITTER}))
    with pytest.raises(Forbidden, match="not linked to an organisation"):
        await world.file(by=loner)


async def test_an_admin_files_for_any_organisation(world: World) -> None:
    filed = await world.file(by=ADMIN, organisation="Ministry of Health", organisation_id="org-9")
    assert (filed.organisation, filed.organisation_id, filed.submitted_by) == (
        "Ministry of Health",
        "org-9",
        "editor-1",
    )


async def test_the_organisation_name_is_needed_once(world: World) -> None:
    with pytest.raises(InvalidInput, match="name the organisation"):
        await world.file(organisation=None)

    await world.file()
    later = await world.file(CLINICS, organisation=None, edition=EDITION + 1, at=T0 + timedelta(1))
    assert later.organisation == "Highlands Digital Agency"


async def test_the_same_text_twice_is_refused_with_the_first_id(world: World) -> None:
    first = await world.file()
    reformatted = SCHOOLS.replace("\n", "  \n").upper()

    with pytest.raises(AlreadyExists) as refused:
        await world.file(reformatted, at=T0 + timedelta(hours=1))

    assert refused.value.extensions["contribution_id"] == first.contribution_id
    assert list(world.stored) == [first.contribution_id]
    # Another year, or another organisation, is another contribution.
    await world.file(edition=EDITION + 1)
    await world.file(by=OTHER_SUBMITTER)
    assert len(world.stored) == 3


async def test_an_upload_keeps_its_original_under_a_safe_name(world: World) -> None:
    data = CLINICS.encode()
    filed = await world.file(
        CLINICS,
        original=Original(data=data, filename="../../etc/Report 2026.pdf"),
        extracted=read_document(data, DocumentLimits()),
    )

    assert filed.original_file_id == filed.contribution_id
    assert filed.original_filename == "Report 2026.txt"  # the bytes were text, not a PDF
    assert filed.original_media_type == "text/plain; charset=utf-8"
    assert filed.original_size == len(data)
    download = await use_cases.get_original(
        world.runner, world.originals, contribution_id=filed.contribution_id
    )
    assert download.data == data
    assert download.filename == "Report 2026.txt"


async def test_a_refused_upload_leaves_no_file_behind(world: World) -> None:
    await world.file(CLINICS)
    with pytest.raises(AlreadyExists):
        await world.file(CLINICS, original=Original(data=CLINICS.encode(), filename="a.txt"))
    assert world.originals.files == {}


async def test_a_contribution_filed_as_fields_has_no_original(world: World) -> None:
    filed = await world.file()
    with pytest.raises(NotFound, match="filed as text"):
        await use_cases.get_original(
            world.runner, world.originals, contribution_id=filed.contribution_id
        )


@pytest.mark.parametrize(
    ("name", "format", "kept"),
    [
        ("report.docx", "pdf", "report.pdf"),
        ("C:\\Users\\me\\Desktop\\WSIS contribution.docx", "docx", "WSIS contribution.docx"),
        ('evil"; filename=x.exe', "text", "evil_ filename_x.txt"),
        ("...", "markdown", "contribution.md"),
        (None, "pdf", "contribution.pdf"),
        ("Contribución año 2026.pdf", "pdf", "Contribución año 2026.pdf"),
        # Combining vowel signs and marks belong to the name (they were "_" before).
        ("रिपोर्ट 2026.pdf", "pdf", "रिपोर्ट 2026.pdf"),
        ("تَقْرِير.pdf", "pdf", "تَقْرِير.pdf"),
        ("e\u0301te\u0301.txt", "text", "été.txt"),  # decomposed, as a Mac may send it
        ("Rapport v1.2 final", "docx", "Rapport v1.2 final.docx"),
    ],
)
def test_safe_filenames(name: str | None, format: ContributionFormat, kept: str) -> None:
    assert use_cases.safe_filename(name, format, fallback="contribution") == kept


# --- listing ------------------------------------------------------------------------------------


async def test_lists_run_newest_first_in_pages(world: World) -> None:
    filed = [
        await world.file(f"{SCHOOLS}\nSchool number {n}.", at=T0 + timedelta(minutes=n))
        for n in range(5)
    ]

    first = await use_cases.list_contributions(
        world.runner, ContributionQuery(), limit=2, cursor=None
    )
    second = await use_cases.list_contributions(
        world.runner, ContributionQuery(), limit=2, cursor=first.next_cursor
    )
    third = await use_cases.list_contributions(
        world.runner, ContributionQuery(), limit=2, cursor=second.next_cursor
    )

    seen = [item.contribution_id for page in (first, second, third) for item in page.items]
    assert seen == [c.contribution_id for c in reversed(filed)]
    assert third.next_cursor is None
    assert first.total == 5
    assert len(first.items[0].excerpt) <= 301


async def test_a_code_filter_matches_tags_in_effect_unless_suggestions_are_asked_for(
    world: World,
) -> None:
    schools = await world.file()
    clinics = await world.file(CLINICS, at=T0 + timedelta(minutes=1))

    async def found(query: ContributionQuery) -> list[str]:
        page = await use_cases.list_contributions(world.runner, query, limit=10, cursor=None)
        return [item.contribution_id for item in page.items]

    assert await found(ContributionQuery(code="C2")) == [schools.contribution_id]
    assert await found(ContributionQuery(code="C7.e-health")) == []
    assert await found(ContributionQuery(code="C7.e-health", include_suggested=True)) == [
        clinics.contribution_id
    ]
    await world.correct(clinics.contribution_id, confirm=["C7.e-health"])
    assert await found(ContributionQuery(code="C7.e-health")) == [clinics.contribution_id]
    assert await found(ContributionQuery(code="C7")) == [clinics.contribution_id]


async def test_a_cursor_not_given_out_is_refused(world: World) -> None:
    for cursor in ("nonsense", "e30", PageCursor(T0, "x").encode()[:-3] + "!!!"):
        with pytest.raises(InvalidInput, match="cursor"):
            await use_cases.list_contributions(
                world.runner, ContributionQuery(), limit=2, cursor=cursor
            )


@pytest.mark.parametrize(
    ("typed", "code"), [("C4", "C4"), ("c7 e-health", "C7.e-health"), ("C7", "C7")]
)
def test_action_line_filters(typed: str, code: str) -> None:
    assert use_cases.action_line_filter(typed) == code


@pytest.mark.parametrize("typed", ["SDG4", "C12", "health"])
def test_action_line_filters_refuse_what_is_not_one(typed: str) -> None:
    with pytest.raises(InvalidInput, match="not an action line"):
        use_cases.action_line_filter(typed)


# --- editors ------------------------------------------------------------------------------------


async def test_an_editor_confirms_rejects_and_adds_and_the_trail_keeps_it(world: World) -> None:
    filed = await world.file()
    assert "C4" not in codes(filed)

    corrected = await world.correct(
        filed.contribution_id,
        confirm=["C7.e-learning"],
        reject=["sdg4"],
        add=["C4", "SDG 9"],
        note="teacher training is capacity building; connectivity is SDG 9",
    )

    tags = {t.code: t for t in corrected.tags}
    assert tags["C7.e-learning"].decision == "confirmed"
    assert tags["C7.e-learning"].in_effect
    assert tags["C7"].in_effect  # an application brings its action line
    assert tags["SDG4"].decision == "rejected"
    assert not tags["SDG4"].in_effect
    assert tags["C4"].source == "editor"
    assert tags["C4"].in_effect
    # SDG 9 was suggested (broadband): adding it confirms the suggestion.
    assert tags["SDG9"].source == "inferred"
    assert tags["SDG9"].decision == "confirmed"
    [correction] = corrected.corrections
    assert correction.by == "editor-1"
    assert correction.at == T0 + timedelta(days=1)
    assert correction.confirmed == ["C7.e-learning", "SDG9", "C7"]
    assert correction.rejected == ["SDG4"]
    assert correction.added == ["C4"]
    assert correction.note == "teacher training is capacity building; connectivity is SDG 9"
    assert world.stored[filed.contribution_id] == corrected


async def test_corrections_accumulate(world: World) -> None:
    filed = await world.file()
    await world.correct(filed.contribution_id, add=["C4"])
    twice = await world.correct(filed.contribution_id, reject=["C4"], note="changed my mind")

    assert [c.added for c in twice.corrections] == [["C4"], []]
    assert [c.rejected for c in twice.corrections] == [[], ["C4"]]
    assert not next(t for t in twice.tags if t.code == "C4").in_effect


async def test_rejecting_c7_rejects_its_applications(world: World) -> None:
    filed = await world.file(CLINICS)
    await world.correct(filed.contribution_id, confirm=["C7.e-health"])

    corrected = await world.correct(filed.contribution_id, reject=["C7"])

    assert corrected.corrections[-1].rejected == ["C7", "C7.e-health"]
    assert corrected.codes_in_effect() == []


async def test_unknown_codes_are_named(world: World) -> None:
    filed = await world.file()
    with pytest.raises(InvalidInput) as refused:
        await world.correct(filed.contribution_id, add=["C4", "C12", "SDG 18"])

    assert "'C12'" in refused.value.detail
    assert "'SDG 18'" in refused.value.detail
    assert refused.value.extensions["unknown_codes"] == ["C12", "SDG 18"]
    assert world.stored[filed.contribution_id].corrections == []


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({}, "say which tags"),
        ({"confirm": ["C9"]}, "C9 is not among this contribution's tags"),
        ({"reject": ["SDG13"]}, "nothing to reject"),
        ({"confirm": ["C2"], "reject": ["C2"]}, "both rejected and confirmed"),
        ({"add": ["C7.e-health"], "reject": ["C7"]}, "rejecting C7 rejects its applications"),
    ],
)
async def test_corrections_that_make_no_sense_are_refused(
    world: World, changes: dict[str, list[str]], said: str
) -> None:
    filed = await world.file()
    with pytest.raises(InvalidInput, match=said):
        await world.correct(filed.contribution_id, **changes)
    assert world.stored[filed.contribution_id] == filed


async def test_correcting_a_missing_contribution_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await world.correct("nope", add=["C4"])


async def test_retagging_keeps_every_decision(world: World) -> None:
    filed = await world.file()
    await world.correct(
        filed.contribution_id, confirm=["C7.e-learning"], reject=["SDG4"], add=["C11"]
    )
    before = world.stored[filed.contribution_id]

    retagged = await use_cases.retag(world.runner, contribution_id=filed.contribution_id)

    assert retagged.codes_in_effect() == before.codes_in_effect()
    assert {t.code: t.decision for t in retagged.tags} == {t.code: t.decision for t in before.tags}
    assert retagged.corrections == before.corrections


def test_retagging_turns_an_editor_tag_into_a_confirmed_suggestion() -> None:
    contribution = Contribution(
        contribution_id="c1",
        edition=EDITION,
        organisation="Org",
        title="t",
        text="Telemedicine and electronic health records for clinics.",
        format="text",
        submitted_by="amina",
        submitted_at=T0,
    ).corrected(add=["C7.e-health"], by="editor-1", at=T0)

    retagged = contribution.retagged(suggest_tags(contribution.text))
    health = next(t for t in retagged.tags if t.code == "C7.e-health")

    assert health.source == "inferred"
    assert health.decision == "confirmed"
    assert health.in_effect
