"""Tagging contributions with action lines and SDGs: explicit mentions, then inferred codes with
a confidence and the sentence that suggested them.

The texts are written for these tests in the style of yearly WSIS contributions; none is taken
from a real submission.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsis_stocktaking.domain.contributions import Tag
from wsis_stocktaking.domain.tagging import (
    ALL_CODES,
    EVIDENCE_MAX_CHARS,
    MAX_INFERRED_CONFIDENCE,
    MIN_INFERRED_CONFIDENCE,
    label_of,
    parse_code,
    suggest_tags,
)

MINISTRY = """\
Ministry of Digital Economy of the Republic of Norland — contribution for 2026

Summary

In 2026 the Ministry continued to implement the WSIS outcomes, in particular Action Lines C1, C2
and C7 e-government, and reports progress towards SDGs 9 and 16.

Activities

The national digital strategy adopted in March sets targets for every ministry until 2030. A new
fibre optic backbone now links 41 district towns, and a universal service fund finances
community networks in the northern provinces, where mobile network coverage was patchy.

The government portal lets citizens renew identity cards, register births and file taxes online;
since its launch 1.2 million online public services requests were completed.

Challenges

Page 4 of the annual budget notes that the C40 Cities network invited the capital to join; this
is outside the scope of the present contribution.
"""

UNIVERSITY = """\
Open University of the Lakes: distance education for rural teachers

Our programme supports Goal 4 by training teachers who cannot leave their schools. The
university runs a learning management system with twenty online courses, and blended learning
sessions are held in district resource centres every term.

This year 3,400 teachers completed at least one course; 62% of them were women. The e-learning
(C7) modules were translated into two local languages so that teachers in remote districts can
follow them in their mother tongue.
"""

COMMUNITY_RADIO = """\
Voices of the Valley Trust — yearly report

We run eleven community radio stations in mountain villages. Journalists from the stations were
trained in fact-checking, and each station now broadcasts a weekly programme on disinformation.

Women make up half of the presenters, and a mentoring scheme for girls in secondary school
introduces them to broadcasting. Programmes are made in the local languages of the valleys.
"""

HEALTH_AGENCY = """\
District Health Authority of Eastmoor

Telemedicine consultations now connect 30 rural clinics to the regional hospital, and nurses
record every visit in electronic health records that follow the patient. A mobile health
application reminds mothers of vaccination dates.
"""


def tags_of(text: str, *, title: str = "") -> dict[str, Tag]:
    return {tag.code: tag for tag in suggest_tags(text, title=title)}


def explicit_codes(text: str) -> list[str]:
    return [tag.code for tag in suggest_tags(text) if tag.source == "explicit"]


# --- explicit mentions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("The project contributes to Action Line C4.", ["C4"]),
        ("It serves WSIS Action Lines C1, C3 and C7.", ["C1", "C3", "C7"]),
        ("Our work falls under action line c11.", ["C11"]),
        ("Teachers were trained (C4) in every district.", ["C4"]),
        ("Two projects (C3, C8) are described below.", ["C3", "C8"]),
        ("Under C7 e-learning we launched two courses.", ["C7", "C7.e-learning"]),
        ("C7: E-Learning — the platform reached 4,000 users.", ["C7", "C7.e-learning"]),
        ("The e-learning (C7) modules were revised.", ["C7", "C7.e-learning"]),
        ("Its eHealth (Action Line C7) pilot ended.", ["C7", "C7.e-health"]),
        (
            "Action Line C7 (e-agriculture) covers our market price service.",
            ["C7", "C7.e-agriculture"],
        ),
        ("Reported under C7 ICT applications: E-environment.", ["C7", "C7.e-environment"]),
        ("We report on C7.e-science this year.", ["C7", "C7.e-science"]),
        ("Our work follows the WSIS Action Line on Capacity Building.", ["C4"]),
        ("It belongs to the Action Line on e-Health.", ["C7", "C7.e-health"]),
        ("Reported under the action line on “Media”.", ["C9"]),
        ("This supports SDG 4.", ["SDG4"]),
        ("This supports SDG4 and SDG-9.", ["SDG4", "SDG9"]),
        ("It advances SDGs 4 and 9.", ["SDG4", "SDG9"]),
        ("It advances SDGs 3, 4, 5 and 10.", ["SDG3", "SDG4", "SDG5", "SDG10"]),
        ("Progress on SDG 16.10 and SDG 9.c is described.", ["SDG9", "SDG16"]),
        ("The programme contributes to Goal 4.", ["SDG4"]),
        ("It contributes to Goals 3, 4 and 5.", ["SDG3", "SDG4", "SDG5"]),
        ("It speaks to Sustainable Development Goal 16.", ["SDG16"]),
        ("It speaks to Sustainable Development Goals (SDGs) 13 and 14.", ["SDG13", "SDG14"]),
        ("Also Global Goal 17.", ["SDG17"]),
    ],
)
def test_explicit_mentions_are_found(text: str, codes: list[str]) -> None:
    assert explicit_codes(text) == codes


@pytest.mark.parametrize(
    "text",
    [
        "The capital joined the C40 Cities network.",
        "Maize is a C3 plant, and sugarcane is a C4 plant.",
        "The 2016 C4 sedan is not an action line either.",
        "Goal 40 of the municipal plan concerns parking.",
        "See page 4 and table 9.",
        "The fund raised SDG 4.5 million in pledges.",
        "Millennium Development Goal 2 was about primary education.",
        "There is no SDG 18, nor SDG 0.",
        "Action Line C12 does not exist.",
        "our goal 1 is to double enrolment.",
        "Form C4/2019 was filed.",
        "SDG 4 000 participants?",
        "The action line on social media content was discussed.",
    ],
)
def test_look_alikes_are_not_mentions(text: str) -> None:
    assert explicit_codes(text) == []


def test_explicit_tags_are_certain_and_quote_their_sentence() -> None:
    tags = tags_of(MINISTRY)

    for code in ("C1", "C2", "C7", "C7.e-government", "SDG9", "SDG16"):
        assert tags[code].source == "explicit"
        assert tags[code].confidence == 1.0
        assert tags[code].decision is None
    assert tags["C2"].evidence == (
        "In 2026 the Ministry continued to implement the WSIS outcomes, in particular Action "
        "Lines C1, C2 and C7 e-government, and reports progress towards SDGs 9 and 16."
    )
    assert "C4" not in tags  # "Page 4", "C40 Cities" are not mentions


def test_a_c7_application_brings_the_c7_action_line() -> None:
    explicit = tags_of("Our eAgriculture service (C7 e-agriculture) sends prices to farmers.")
    assert explicit["C7"].source == "explicit"

    inferred = tags_of(HEALTH_AGENCY)
    assert inferred["C7.e-health"].source == "inferred"
    assert inferred["C7"].source == "inferred"
    assert inferred["C7"].confidence >= inferred["C7.e-health"].confidence


def test_the_title_counts_as_the_first_line() -> None:
    tags = tags_of("We trained 300 officials.", title="Report under Action Line C4")
    assert tags["C4"].source == "explicit"
    assert tags["C4"].evidence == "Report under Action Line C4"


# --- inferred tags ------------------------------------------------------------------------------


def test_inferred_tags_carry_confidence_cues_and_evidence() -> None:
    tags = tags_of(UNIVERSITY)

    learning = tags["C7.e-learning"]
    assert learning.source == "explicit"  # "e-learning (C7)" is named
    capacity = tags["C4"]
    assert capacity.source == "inferred"
    assert MIN_INFERRED_CONFIDENCE <= capacity.confidence <= MAX_INFERRED_CONFIDENCE
    assert "training*" in capacity.cues
    assert capacity.evidence is not None
    assert "training teachers" in capacity.evidence

    languages = tags["C8"]
    assert languages.source == "inferred"
    assert set(languages.cues) >= {"local language*", "mother tongue*"}
    assert languages.evidence == (
        "The e-learning (C7) modules were translated into two local languages so that teachers "
        "in remote districts can follow them in their mother tongue."
    )
    assert tags["SDG4"].source == "explicit"  # "Goal 4"
    # "62% of them were women": one medium cue alone is below the threshold.
    assert "SDG5" not in tags


def test_a_text_without_codes_is_still_tagged_from_its_vocabulary() -> None:
    tags = tags_of(COMMUNITY_RADIO)

    assert all(tag.source == "inferred" for tag in tags.values())
    assert tags["C9"].confidence >= 0.9  # community radio, journalists, disinformation…
    assert "community radio*" in tags["C9"].cues
    assert tags["C8"].confidence >= MIN_INFERRED_CONFIDENCE  # local languages
    assert tags["SDG5"].confidence >= MIN_INFERRED_CONFIDENCE  # women, girls
    assert tags["SDG5"].evidence == (
        "Women make up half of the presenters, and a mentoring scheme for girls in secondary "
        "school introduces them to broadcasting."
    )
    assert "C5" not in tags
    assert "SDG14" not in tags


def test_an_inferred_tag_never_repeats_an_explicit_one() -> None:
    text = (
        "Under Action Line C4 we ran capacity building workshops, digital skills training and a "
        "train the trainers programme for 900 civil servants."
    )
    tags = suggest_tags(text)

    assert [tag.code for tag in tags].count("C4") == 1
    assert next(tag for tag in tags if tag.code == "C4").source == "explicit"


def test_confidence_grows_with_distinct_cues_not_with_repetition() -> None:
    once = tags_of("The clinics started telemedicine consultations.")
    repeated = tags_of(
        "The clinics started telemedicine consultations. Telemedicine grew. Telemedicine "
        "helps. More telemedicine next year."
    )
    more_cues = tags_of(
        "The clinics started telemedicine consultations and keep electronic health records."
    )

    assert once["C7.e-health"].confidence == repeated["C7.e-health"].confidence
    assert more_cues["C7.e-health"].confidence > once["C7.e-health"].confidence


def test_a_single_weak_cue_suggests_nothing() -> None:
    assert tags_of("The annual meeting discussed health.") == {}


def test_a_word_inside_a_longer_cue_does_not_count_on_its_own() -> None:
    tags = tags_of(
        "The regulator consulted on an enabling environment for investment, including a new "
        "legal framework for electronic transactions."
    )
    assert "C6" in tags
    assert "C7.e-environment" not in tags


def test_boilerplate_names_are_not_cues() -> None:
    text = (
        "Submission to the Commission on Science and Technology for Development by the United "
        "Nations Institute for Training and Research on the World Summit on the Information "
        "Society."
    )
    assert tags_of(text) == {}


def test_the_evidence_is_the_sentence_with_the_strongest_cues() -> None:
    text = (
        "Farmers met at the cooperative. Farm incomes rose slightly. Our agricultural extension "
        "officers now use precision farming data and send crop advice to smallholder farmers "
        "by SMS."
    )
    evidence = tags_of(text)["C7.e-agriculture"].evidence
    assert evidence is not None
    assert evidence.startswith("Our agricultural extension officers")


def test_a_long_sentence_is_cut_around_the_cue() -> None:
    filler = " ".join(["the committee also reviewed the annual accounts"] * 30)
    text = f"In 2026 {filler}, and then it approved a national cybersecurity strategy, {filler}."
    evidence = tags_of(text)["C5"].evidence

    assert evidence is not None
    assert "cybersecurity" in evidence
    assert len(evidence) <= EVIDENCE_MAX_CHARS + 2
    assert evidence.startswith("…")
    assert evidence.endswith("…")


def test_sentences_wrapped_over_lines_are_joined_in_the_evidence() -> None:
    text = (
        "The authority trained 40 officers of its national computer emergency response team\n"
        "and held a regional cyber drill with three neighbouring countries.\n"
        "\n"
        "Next steps\n"
    )
    evidence = tags_of(text)["C5"].evidence
    assert evidence == (
        "The authority trained 40 officers of its national computer emergency response team "
        "and held a regional cyber drill with three neighbouring countries."
    )


def test_tags_are_deterministic_and_ordered() -> None:
    first = suggest_tags(MINISTRY)
    assert suggest_tags(MINISTRY) == first

    sources = [tag.source for tag in first]
    assert sources == sorted(sources, key=lambda source: source != "explicit")
    inferred = [tag.confidence for tag in first if tag.source == "inferred"]
    assert inferred == sorted(inferred, reverse=True)
    assert len({tag.code for tag in first}) == len(first)


def test_what_is_named_is_not_suggested_again() -> None:
    # The ministry's vocabulary (fibre optic backbone, government portal, online public
    # services…) points at exactly the codes it names, so nothing is left to suggest.
    tags = tags_of(MINISTRY)
    assert set(tags) == {"C1", "C2", "C7", "C7.e-government", "SDG9", "SDG16"}
    assert {tag.source for tag in tags.values()} == {"explicit"}


# --- codes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("C4", "C4"),
        ("c11", "C11"),
        (" C7 ", "C7"),
        ("C7.e-learning", "C7.e-learning"),
        ("C7 e-Health", "C7.e-health"),
        ("c7: E-Government", "C7.e-government"),
        ("SDG4", "SDG4"),
        ("SDG 16", "SDG16"),
        ("sdg-17", "SDG17"),
        ("C12", None),
        ("C0", None),
        ("SDG18", None),
        ("SDG 0", None),
        ("C4 e-learning", None),
        ("C7.e-commerce", None),
        ("e-learning", None),
        ("4", None),
        ("", None),
    ],
)
def test_codes_typed_by_an_editor(typed: str, code: str | None) -> None:
    assert parse_code(typed) == code


def test_every_code_has_a_label() -> None:
    assert label_of("C4") == "Capacity building"
    assert label_of("C7") == "ICT applications"
    assert label_of("C7.e-health") == "ICT applications: E-health"
    assert label_of("SDG16") == "SDG 16: Peace, justice and strong institutions"
    assert all(label_of(code) for code in ALL_CODES)
    assert len(ALL_CODES) == 11 + 8 + 17


# --- any text -----------------------------------------------------------------------------------

words = st.sampled_from(
    [
        "SDG",
        "SDGs",
        "Goal",
        "Action",
        "Line",
        "C7",
        "C4",
        "C40",
        "e-learning",
        "(C7)",
        "4",
        "16.10",
        "and",
        ",",
        ".",
        "\n",
        "\n\n",
        "telemedicine",
        "broadband",
        "women",
        "million",
        "%",
        "(",
        ")",
        "enabling",
        "environment",
    ]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=st.lists(words | st.text(max_size=12), max_size=60).map(" ".join))
def test_any_text_gets_valid_distinct_tags(text: str) -> None:
    tags = suggest_tags(text)

    assert len({tag.code for tag in tags}) == len(tags)
    for tag in tags:
        assert tag.code in ALL_CODES
        assert tag.kind == ("sdg" if tag.code.startswith("SDG") else "action_line")
        if tag.source == "explicit":
            assert tag.confidence == 1.0
        else:
            assert MIN_INFERRED_CONFIDENCE <= tag.confidence <= MAX_INFERRED_CONFIDENCE
        assert tag.evidence
    codes = {tag.code for tag in tags}
    assert all("C7" in codes for code in codes if code.startswith("C7."))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    before=st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=40),
    goal=st.integers(min_value=1, max_value=17),
    after=st.sampled_from(["", ".", " and beyond.", ", in particular target 1."]),
)
def test_a_named_sdg_is_always_found(before: str, goal: int, after: str) -> None:
    text = f"{before} The project supports SDG {goal}{after}"
    assert f"SDG{goal}" in explicit_codes(text)
