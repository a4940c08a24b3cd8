"""The rubric, a reviewer's review, and the aggregation into a normalised ranking."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from wsis_review.domain.ranking import ScoredReview, reviewer_baselines, score_entries
from wsis_review.domain.reviews import CriterionScore, Review, ReviewChanges
from wsis_review.domain.rubric import Criterion, Rubric, default_rubric
from wsis_shared.errors import InvalidInput

NOW = datetime(2027, 3, 10, tzinfo=UTC)
RUBRIC = Rubric(
    criteria=(
        Criterion(key="impact", name="Impact", weight=3),
        Criterion(key="innovation", name="Innovation", weight=1),
        Criterion(key="fit", name="Fit", weight=1, scale_min=0, scale_max=5),
    )
)


def _review() -> Review:
    return Review(entry_id="e1", reviewer_id="r1", edition=2027, category="C4", updated_at=NOW)


def _complete(review: Review) -> None:
    review.apply(
        ReviewChanges(
            scores={
                "impact": CriterionScore(score=10, comment="large"),
                "innovation": CriterionScore(score=1),
                "fit": CriterionScore(score=5),
            },
            recommendation="nominate",
        ),
        RUBRIC,
        NOW,
    )


def test_the_weighted_mean_puts_every_scale_on_0_to_10() -> None:
    review = _review()
    _complete(review)

    # impact 10 -> 10 (weight 3), innovation 1 -> 0 (weight 1), fit 5/5 -> 10 (weight 1)
    assert review.weighted_mean(RUBRIC) == pytest.approx((3 * 10 + 0 + 10) / 5)


def test_an_incomplete_review_has_no_mean_and_cannot_be_submitted() -> None:
    review = _review()
    review.apply(ReviewChanges(scores={"impact": CriterionScore(score=7)}), RUBRIC, NOW)

    assert review.weighted_mean(RUBRIC) is None
    with pytest.raises(InvalidInput) as refused:
        review.submit(RUBRIC, NOW)
    pointers = {e["pointer"] for e in refused.value.extensions["errors"]}
    assert pointers == {"/scores/innovation/score", "/scores/fit/score", "/recommendation"}
    assert review.status == "draft"


def test_scores_outside_the_scale_and_unknown_criteria_are_refused_with_pointers() -> None:
    review = _review()

    with pytest.raises(InvalidInput) as refused:
        review.apply(
            ReviewChanges(
                scores={"impact": CriterionScore(score=11), "beauty": CriterionScore(score=3)}
            ),
            RUBRIC,
            NOW,
        )

    errors = {e["pointer"]: e["detail"] for e in refused.value.extensions["errors"]}
    assert "from 1 to 10" in errors["/scores/impact/score"]
    assert "impact, innovation, fit" in errors["/scores/beauty"]
    assert review.scores == {}
    assert review.version == 0


@pytest.mark.parametrize("score", [True, "7", 7.0])
def test_a_score_is_a_whole_number_not_a_boolean_or_text(score: object) -> None:
    with pytest.raises(ValidationError):
        ReviewChanges.model_validate_json(json.dumps({"scores": {"impact": {"score": score}}}))
    with pytest.raises(ValidationError):
        ReviewChanges.model_validate({"scores": {"impact": {"score": score}}})


def test_an_unknown_criterion_key_is_escaped_in_its_json_pointer() -> None:
    with pytest.raises(InvalidInput) as refused:
        _review().apply(ReviewChanges(scores={"a/b~c": CriterionScore(score=3)}), RUBRIC, NOW)

    [error] = refused.value.extensions["errors"]
    assert error["pointer"] == "/scores/a~1b~0c"  # RFC 6901: "~" as "~0", "/" as "~1"


def test_drafts_are_saved_piecemeal_and_unchanged_saves_change_nothing() -> None:
    review = _review()
    first = review.apply(ReviewChanges(scores={"impact": CriterionScore(score=7)}), RUBRIC, NOW)
    second = review.apply(ReviewChanges(overall_comment="Solid"), RUBRIC, NOW)
    again = review.apply(ReviewChanges(overall_comment="Solid"), RUBRIC, NOW)

    assert first == {"scores.impact": {"score": 7, "comment": None}}
    assert second == {"overall_comment": "Solid"}
    assert again == {}
    assert review.version == 2
    assert review.scores["impact"].score == 7


def test_a_submitted_review_stays_editable_but_complete() -> None:
    review = _review()
    _complete(review)
    review.submit(RUBRIC, NOW)
    later = NOW + timedelta(days=1)

    review.apply(ReviewChanges(scores={"impact": CriterionScore(score=9)}), RUBRIC, later)
    assert review.status == "submitted"
    assert review.scores["impact"].score == 9

    with pytest.raises(InvalidInput):
        review.apply(ReviewChanges(scores={"impact": CriterionScore(score=None)}), RUBRIC, later)
    assert review.scores["impact"].score == 9


def test_a_rubric_needs_unique_keys_and_sane_scales() -> None:
    with pytest.raises(ValidationError):
        Rubric(criteria=(Criterion(key="a", name="A", weight=1),) * 2)
    with pytest.raises(ValidationError):
        Criterion(key="a", name="A", weight=1, scale_min=5, scale_max=5)
    with pytest.raises(ValidationError):
        Criterion(key="a", name="A", weight=0)
    assert [c.key for c in default_rubric().criteria] == [
        "impact",
        "innovation",
        "sustainability",
        "replicability",
        "alignment",
    ]


def test_normalisation_removes_a_reviewers_severity() -> None:
    # The severe reviewer gives 4, 5, 6; the lenient one 8, 9, 10 to the same three entries:
    # same order of merit, different severity. Normalised, the entries tie pairwise.
    reviews = [
        ScoredReview(entry, reviewer, mark)
        for reviewer, marks in (("severe", (4, 5, 6)), ("lenient", (8, 9, 10)))
        for entry, mark in zip(("a", "b", "c"), marks, strict=True)
    ]
    scores = score_entries(["a", "b", "c"], reviews, reviewer_baselines(reviews), 3.0)

    assert [s.entry_id for s in scores] == ["c", "b", "a"]
    assert [s.rank for s in scores] == [1, 2, 3]
    by_id = {s.entry_id: s for s in scores}
    assert by_id["b"].normalised_score == pytest.approx(0.0)
    a_score, c_score = by_id["a"].normalised_score, by_id["c"].normalised_score
    assert a_score is not None
    assert c_score == pytest.approx(-a_score)
    assert by_id["c"].spread == pytest.approx(4.0)
    assert by_id["c"].disagreement is True, "4 points apart beyond a threshold of 3"


def test_a_severe_reviewer_does_not_sink_the_entries_they_happen_to_review() -> None:
    # Entry x is reviewed only by a severe reviewer who marks it above their own average;
    # entry y only by a lenient one who marks it below theirs. Raw means favour y; normalised
    # scores favour x.
    reviews = [
        ScoredReview("x", "severe", 5.0),
        ScoredReview("s1", "severe", 3.0),
        ScoredReview("s2", "severe", 4.0),
        ScoredReview("y", "lenient", 8.0),
        ScoredReview("l1", "lenient", 9.0),
        ScoredReview("l2", "lenient", 10.0),
    ]
    scores = score_entries(["x", "y"], reviews, reviewer_baselines(reviews), 3.0)

    assert [s.entry_id for s in scores] == ["x", "y"]
    assert scores[0].weighted_mean < scores[1].weighted_mean  # type: ignore[operator]


def test_entries_without_reviews_come_last_unranked_and_uniform_reviewers_are_neutral() -> None:
    reviews = [ScoredReview("a", "flat", 7.0), ScoredReview("b", "flat", 7.0)]
    scores = score_entries(["a", "b", "c"], reviews, reviewer_baselines(reviews), 3.0)

    assert [(s.entry_id, s.rank, s.normalised_score) for s in scores] == [
        ("a", 1, 0.0),
        ("b", 2, 0.0),
        ("c", None, None),
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.sampled_from(["r1", "r2", "r3"]),
            st.floats(min_value=0, max_value=10),
        ),
        min_size=1,
        max_size=30,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_ranks_are_a_permutation_of_the_scored_entries(marks: list[tuple[str, str, float]]) -> None:
    reviews = [ScoredReview(*mark) for mark in marks]
    scores = score_entries(["a", "b", "c", "d"], reviews, reviewer_baselines(reviews), 3.0)

    scored = {r.entry_id for r in reviews}
    assert sorted(s.rank for s in scores if s.rank is not None) == list(range(1, len(scored) + 1))
    normalised = [s.normalised_score for s in scores if s.rank is not None]
    assert normalised == sorted(normalised, reverse=True)  # type: ignore[type-var]
