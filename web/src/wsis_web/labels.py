"""The vocabulary's values as a person reads them, in the page's language. `N_` marks a message
for the catalogues; it is translated when the page is rendered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from wsis_shared.vocabulary import Category


def N_(message: str) -> str:
    return message


# The English names are the vocabulary's own (wsis_shared.vocabulary.CATEGORY_NAMES), written
# again here so the catalogue extraction sees every one; a unit test keeps the two equal.
CATEGORY_MESSAGES: Final[dict[Category, str]] = {
    Category.C1: N_(
        "The role of public governance authorities and all stakeholders in the promotion of "
        "ICTs for development"
    ),
    Category.C2: N_("Information and communication infrastructure"),
    Category.C3: N_("Access to information and knowledge"),
    Category.C4: N_("Capacity building"),
    Category.C5: N_("Building confidence and security in the use of ICTs"),
    Category.C6: N_("Enabling environment"),
    Category.C7_E_GOVERNMENT: N_("ICT applications: E-government"),
    Category.C7_E_BUSINESS: N_("ICT applications: E-business"),
    Category.C7_E_LEARNING: N_("ICT applications: E-learning"),
    Category.C7_E_HEALTH: N_("ICT applications: E-health"),
    Category.C7_E_EMPLOYMENT: N_("ICT applications: E-employment"),
    Category.C7_E_ENVIRONMENT: N_("ICT applications: E-environment"),
    Category.C7_E_AGRICULTURE: N_("ICT applications: E-agriculture"),
    Category.C7_E_SCIENCE: N_("ICT applications: E-science"),
    Category.C8: N_("Cultural diversity and identity, linguistic diversity and local content"),
    Category.C9: N_("Media"),
    Category.C10: N_("Ethical dimensions of the Information Society"),
    Category.C11: N_("International and regional cooperation"),
}

VALUE_MESSAGES: Final[dict[str, dict[str, str]]] = {
    "phase": {
        "planned": N_("Planned"),
        "submission": N_("Submission of projects"),
        "review": N_("Review by the expert group"),
        "voting": N_("Public voting"),
        "selection": N_("Selection of the winners"),
        "results": N_("Results"),
        "closed": N_("Closed"),
    },
    "region": {
        "Africa": N_("Africa"),
        "Americas": N_("Americas"),
        "Arab States": N_("Arab States"),
        "Asia & Pacific": N_("Asia & Pacific"),
        "CIS": N_("CIS"),
        "Europe": N_("Europe"),
    },
    "stakeholder_type": {
        "government": N_("Government"),
        "private sector": N_("Private sector"),
        "civil society": N_("Civil society"),
        "academia": N_("Academia"),
        "international organisation": N_("International organisation"),
        "other": N_("Other"),
    },
    "status": {
        "submitted": N_("Submitted"),
        "eligible": N_("Eligible"),
        "ineligible": N_("Not eligible"),
        "nominated": N_("Nominated"),
        "not_nominated": N_("Not nominated"),
        "champion": N_("Champion"),
        "winner": N_("Winner"),
        "withdrawn": N_("Withdrawn"),
    },
    "facet": {
        "edition": N_("Edition"),
        "action_line": N_("Action line"),
        "category": N_("Category"),
        "sdg": N_("Sustainable Development Goal"),
        "region": N_("Region"),
        "country": N_("Country"),
        "stakeholder_type": N_("Stakeholder type"),
        "status": N_("Status"),
    },
    "report": {
        "stocktaking-report": N_("WSIS Stocktaking Report"),
        "success-stories": N_("WSIS Success Stories"),
    },
}

Translate = Callable[[str], str]
SDG_LABEL: Final = N_("SDG %(number)s")


def category_name(category: Category | str, translate: Translate) -> str:
    try:
        return translate(CATEGORY_MESSAGES[Category(category)])
    except ValueError:
        return str(category)


def label(kind: str, value: object, translate: Translate) -> str:
    """A facet value or status in words; values without words (a year, an SDG number, a
    country code) as they are."""
    if kind == "category":
        return category_name(str(value), translate)
    if kind == "sdg":
        return translate(SDG_LABEL) % {"number": value}
    message = VALUE_MESSAGES.get(kind, {}).get(str(value))
    return translate(message) if message is not None else str(value)
