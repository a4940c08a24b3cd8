"""Builders of catalogue records, report entries and contributions for the report tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from wsis_shared.events import EntryPublic
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType
from wsis_stocktaking.domain.catalogue import CatalogueRecord
from wsis_stocktaking.domain.contributions import Tag
from wsis_stocktaking.domain.reports import ContributionDigest, ReportEntry

YEAR = 2027
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def entry(entry_id: str = "entry-1", **overrides: Any) -> ReportEntry:
    category: Category = overrides.pop("category", Category.C4)
    named: tuple[ActionLine, ...] = overrides.pop("named_action_lines", ())
    values: dict[str, Any] = {
        "entry_id": entry_id,
        "category": category,
        "action_lines": ReportEntry.action_lines_of(category, named),
        "sdgs": frozenset({4}),
        "region": Region.AFRICA,
        "stakeholder_type": StakeholderType.GOVERNMENT,
        "country": "KE",
        "updated_at": T0,
    }
    return ReportEntry(**(values | overrides))


def public_entry(entry_id: str, **overrides: Any) -> EntryPublic:
    values: dict[str, Any] = {
        "entry_id": entry_id,
        "category": Category.C4,
        "title": f"Project {entry_id}",
        "short_description": f"What project {entry_id} did, in about 150 words.",
        "organisation_id": f"org-{entry_id}",
        "organisation_name": f"Organisation of {entry_id}",
        "country": "KE",
        "region": Region.AFRICA,
        "stakeholder_type": StakeholderType.GOVERNMENT,
        "action_lines": (ActionLine.C4,),
        "sdgs": (4,),
    }
    return EntryPublic(**(values | overrides))


def record(entry_id: str, *, edition: int = YEAR, **facts: Any) -> CatalogueRecord:
    fields = facts.pop("entry_fields", {})
    return CatalogueRecord(
        entry_id=entry_id,
        edition=edition,
        entry=public_entry(entry_id, **fields),
        updated_at=facts.pop("updated_at", T0),
        **facts,
    )


def tag(code: str, **overrides: Any) -> Tag:
    values: dict[str, Any] = {
        "kind": "action_line",
        "code": code,
        "source": "explicit",
        "confidence": 1.0,
        "evidence": f"Our work concerns Action Line {code}.",
    }
    return Tag(**(values | overrides))


def contribution(contribution_id: str, *tags: Tag, **overrides: Any) -> ContributionDigest:
    values: dict[str, Any] = {
        "contribution_id": contribution_id,
        "edition": YEAR,
        "organisation": f"Organisation {contribution_id}",
        "title": f"Contribution {contribution_id}",
        "submitted_at": T0,
        "tags": tags,
    }
    return ContributionDigest(**(values | overrides))


def random_entries(count: int, seed: int = 7) -> list[ReportEntry]:
    rng = random.Random(seed)
    categories, lines = list(Category), list(ActionLine)
    countries = ["KE", "CH", "BR", "IN", "EG", "KZ", "FR", "JP"]
    entries = []
    for number in range(count):
        category = rng.choice(categories)
        entries.append(
            ReportEntry(
                entry_id=f"entry-{number:06d}",
                category=category,
                action_lines=ReportEntry.action_lines_of(
                    category, rng.sample(lines, rng.randint(0, 3))
                ),
                sdgs=frozenset(rng.sample(range(1, 18), rng.randint(0, 4))),
                region=rng.choice(list(Region)),
                stakeholder_type=rng.choice(list(StakeholderType)),
                country=rng.choice(countries),
                withdrawn=rng.random() < 0.05,
                nominated=rng.random() < 0.3,
                champion=rng.random() < 0.02,
                winner=rng.random() < 0.005,
                updated_at=T0 + timedelta(minutes=rng.randint(0, 10_000)),
            )
        )
    return entries


def random_contributions(count: int, seed: int = 11) -> list[ContributionDigest]:
    rng = random.Random(seed)
    codes = [line.value for line in ActionLine] + ["C7.e-health", "C7.e-learning"]
    sources = ["explicit", "inferred", "editor"]
    found = []
    for number in range(count):
        tags = []
        for code in rng.sample(codes, rng.randint(1, 3)):
            source = rng.choice(sources)
            decision = rng.choice([None, None, "confirmed", "rejected"])
            tags.append(
                tag(
                    code,
                    source=source,
                    decision=decision,
                    confidence=1.0 if source == "explicit" else round(rng.random(), 2),
                    evidence=f"In {YEAR} we worked on {code} in {rng.randint(2, 90)} schools.",
                )
            )
        found.append(
            contribution(
                f"contribution-{number:04d}",
                *tags,
                organisation=f"Organisation {number % 37}",
                submitted_at=T0 + timedelta(hours=rng.randint(0, 500)),
            )
        )
    return found
