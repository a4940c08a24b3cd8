"""The fixed vocabulary of the WSIS Prizes: categories, action lines, regions, stakeholders, phases.

These are shared by every service because they appear in event payloads; official names come
from the WSIS Prizes rules (DESIGN.md §1).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final

from pydantic import Field


class Category(StrEnum):
    """The 18 prize categories: one per action line, C7 split into eight applications."""

    C1 = "C1"
    C2 = "C2"
    C3 = "C3"
    C4 = "C4"
    C5 = "C5"
    C6 = "C6"
    C7_E_GOVERNMENT = "C7.e-government"
    C7_E_BUSINESS = "C7.e-business"
    C7_E_LEARNING = "C7.e-learning"
    C7_E_HEALTH = "C7.e-health"
    C7_E_EMPLOYMENT = "C7.e-employment"
    C7_E_ENVIRONMENT = "C7.e-environment"
    C7_E_AGRICULTURE = "C7.e-agriculture"
    C7_E_SCIENCE = "C7.e-science"
    C8 = "C8"
    C9 = "C9"
    C10 = "C10"
    C11 = "C11"


CATEGORY_NAMES: Final[dict[Category, str]] = {
    Category.C1: "The role of public governance authorities and all stakeholders in the "
    "promotion of ICTs for development",
    Category.C2: "Information and communication infrastructure",
    Category.C3: "Access to information and knowledge",
    Category.C4: "Capacity building",
    Category.C5: "Building confidence and security in the use of ICTs",
    Category.C6: "Enabling environment",
    Category.C7_E_GOVERNMENT: "ICT applications: E-government",
    Category.C7_E_BUSINESS: "ICT applications: E-business",
    Category.C7_E_LEARNING: "ICT applications: E-learning",
    Category.C7_E_HEALTH: "ICT applications: E-health",
    Category.C7_E_EMPLOYMENT: "ICT applications: E-employment",
    Category.C7_E_ENVIRONMENT: "ICT applications: E-environment",
    Category.C7_E_AGRICULTURE: "ICT applications: E-agriculture",
    Category.C7_E_SCIENCE: "ICT applications: E-science",
    Category.C8: "Cultural diversity and identity, linguistic diversity and local content",
    Category.C9: "Media",
    Category.C10: "Ethical dimensions of the Information Society",
    Category.C11: "International and regional cooperation",
}


# The 17 Sustainable Development Goals, by their official short names.
SDG_NAMES: Final[dict[int, str]] = {
    1: "No poverty",
    2: "Zero hunger",
    3: "Good health and well-being",
    4: "Quality education",
    5: "Gender equality",
    6: "Clean water and sanitation",
    7: "Affordable and clean energy",
    8: "Decent work and economic growth",
    9: "Industry, innovation and infrastructure",
    10: "Reduced inequalities",
    11: "Sustainable cities and communities",
    12: "Responsible consumption and production",
    13: "Climate action",
    14: "Life below water",
    15: "Life on land",
    16: "Peace, justice and strong institutions",
    17: "Partnerships for the goals",
}


class ActionLine(StrEnum):
    """WSIS action lines C1–C11 (C7's applications are categories, the action line is C7)."""

    C1 = "C1"
    C2 = "C2"
    C3 = "C3"
    C4 = "C4"
    C5 = "C5"
    C6 = "C6"
    C7 = "C7"
    C8 = "C8"
    C9 = "C9"
    C10 = "C10"
    C11 = "C11"


def action_line_of(category: Category) -> ActionLine:
    return ActionLine(category.value.split(".", 1)[0])


class Region(StrEnum):
    """ITU's six regions."""

    AFRICA = "Africa"
    AMERICAS = "Americas"
    ARAB_STATES = "Arab States"
    ASIA_PACIFIC = "Asia & Pacific"
    CIS = "CIS"
    EUROPE = "Europe"


class StakeholderType(StrEnum):
    GOVERNMENT = "government"
    PRIVATE_SECTOR = "private sector"
    CIVIL_SOCIETY = "civil society"
    ACADEMIA = "academia"
    INTERNATIONAL_ORGANISATION = "international organisation"
    OTHER = "other"


class Phase(StrEnum):
    """Phases of an edition, in order; each change is an `edition.phase_changed` event."""

    PLANNED = "planned"
    SUBMISSION = "submission"
    REVIEW = "review"
    VOTING = "voting"
    SELECTION = "selection"  # voting closed; the expert group picks winners among finalists
    RESULTS = "results"
    CLOSED = "closed"

    @property
    def order(self) -> int:
        return list(Phase).index(self)


def vote_counts_public(phase: Phase, show_running_counts: bool) -> bool:
    """Vote counts are public once results are out; while votes are being cast or the finalists
    judged, only if the edition chose to show running counts (showing them can bias the vote)."""
    if phase.order >= Phase.RESULTS.order:
        return True
    return show_running_counts and phase in (Phase.VOTING, Phase.SELECTION)


class ProjectStatus(StrEnum):
    """Only completed projects, or projects at the end of a major phase, are eligible."""

    COMPLETED = "completed"
    MAJOR_PHASE_COMPLETED = "major phase completed"
    ONGOING = "ongoing"


class Role(StrEnum):
    SUBMITTER = "submitter"
    REVIEWER = "reviewer"
    CHAIR = "chair"
    ADMIN = "admin"
    VOTER = "voter"


# The year of an edition, as every API takes it (path or query): bounded like the editions an
# admin can create, so a 30-digit "year" is a 422 with its parameter, not a number MongoDB
# cannot store (it answered 500).
EditionYear = Annotated[
    int, Field(ge=2000, le=2100, description="the edition's year, e.g. 2027", examples=[2027])
]
