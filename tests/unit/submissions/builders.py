"""Valid editions, entries and people of the submissions service, to vary one thing at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from wsis_shared.auth import Principal
from wsis_shared.events import EditionSchedule
from wsis_shared.vocabulary import (
    ActionLine,
    Category,
    Phase,
    ProjectStatus,
    Role,
    StakeholderType,
)
from wsis_submissions.domain.editions import Edition
from wsis_submissions.domain.entries import Entry, EntryContent

YEAR = 2027
OPENS = datetime(2027, 1, 10, tzinfo=UTC)
NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)


def schedule() -> EditionSchedule:
    return EditionSchedule(
        submission_opens=OPENS,
        submission_closes=OPENS + timedelta(days=60),
        review_closes=OPENS + timedelta(days=90),
        voting_opens=OPENS + timedelta(days=91),
        voting_closes=OPENS + timedelta(days=121),
        results_at=OPENS + timedelta(days=130),
    )


def edition(
    phase: Phase = Phase.SUBMISSION,
    categories: tuple[Category, ...] = tuple(Category),
    year: int = YEAR,
) -> Edition:
    return Edition(
        year=year,
        title=f"WSIS Prizes {year}",
        schedule=schedule(),
        categories=categories,
        show_running_counts=False,
        phase=phase,
        created_at=OPENS - timedelta(days=30),
    )


def words(count: int, tag: str = "word") -> str:
    """`count` distinct words; different tags make texts that share no word."""
    return " ".join(f"{tag}{i}" for i in range(count))


def content(**overrides: Any) -> EntryContent:
    """Everything `submit` needs, in category C7.e-health, from Kenya."""
    values: dict[str, Any] = {
        "title": "Telemedicine for rural clinics",
        "short_description": words(170),
        "full_description": "The long story of the project.",
        "category": Category.C7_E_HEALTH,
        "action_lines": (ActionLine.C3,),
        "sdgs": (3, 9),
        "sdg_targets": ("3.8",),
        "country": "KE",
        "stakeholder_type": StakeholderType.GOVERNMENT,
        "organisation_name": "Ministry of Health",
        "website": "https://example.org/telemedicine",
        "impact_qualitative": "Patients are seen sooner.",
        "beneficiaries": "Rural patients and their clinics",
        "start_date": date(2024, 5, 1),
        "project_status": ProjectStatus.COMPLETED,
        "contact_name": "Amina Otieno",
        "contact_email": "amina@example.org",
    }
    values.update(overrides)
    return EntryContent(**values)


def draft(
    entry_id: str = "entry-1", organisation_id: str = "org-1", year: int = YEAR, **overrides: Any
) -> Entry:
    return Entry(
        entry_id=entry_id,
        edition=year,
        organisation_id=organisation_id,
        created_by="alice",
        content=content(**overrides),
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
    )


def submitter(subject: str = "alice", organisation_id: str | None = "org-1") -> Principal:
    return Principal(
        subject=subject, roles=frozenset({Role.SUBMITTER}), organisation_id=organisation_id
    )


def admin() -> Principal:
    return Principal(subject="root", roles=frozenset({Role.ADMIN}))
