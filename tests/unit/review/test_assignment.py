"""Reviewer assignment: the rules a plan must keep, coverage, balance, determinism, increments."""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsis_review.domain.assignment import (
    AssignmentPlan,
    AssignmentRules,
    EntryToAssign,
    Pair,
    ReviewerProfile,
    conflict_reason,
    plan_assignment,
)
from wsis_shared.vocabulary import Category

C1, C2, C3 = Category.C1, Category.C2, Category.C3
HEALTH = Category.C7_E_HEALTH
ALL = frozenset(Category)
K3 = AssignmentRules()


def reviewer(
    reviewer_id: str,
    *,
    organisation: str = "Reviewers' Institute",
    country: str = "CH",
    categories: Iterable[Category] = ALL,
    max_load: int = 1000,
    conflict_organisations: Iterable[str] = (),
    conflict_entries: Iterable[str] = (),
) -> ReviewerProfile:
    return ReviewerProfile(
        reviewer_id=reviewer_id,
        organisation=organisation,
        country=country,
        categories=frozenset(categories),
        max_load=max_load,
        conflict_organisations=frozenset(conflict_organisations),
        conflict_entries=frozenset(conflict_entries),
    )


def entry(
    entry_id: str, category: Category = C1, organisation: str = "Entrant", country: str = "KE"
) -> EntryToAssign:
    return EntryToAssign(entry_id, category, organisation, country)


def reviewers_of(plan: AssignmentPlan, existing: Iterable[Pair] = ()) -> dict[str, set[str]]:
    on: dict[str, set[str]] = {}
    for pair in (*existing, *plan.new_pairs):
        on.setdefault(pair.entry_id, set()).add(pair.reviewer_id)
    return on


def check_rules(
    plan: AssignmentPlan,
    entries: Sequence[EntryToAssign],
    reviewers: Sequence[ReviewerProfile],
    rules: AssignmentRules,
    existing: Iterable[Pair] = (),
    declined: Iterable[Pair] = (),
) -> None:
    """Every hard rule, plus what a maximum min-cost flow implies (no augmenting move left)."""
    existing, declined = set(existing), set(declined)
    k = rules.reviewers_per_entry
    by_entry = {e.entry_id: e for e in entries}
    by_reviewer = {r.reviewer_id: r for r in reviewers}
    new = list(plan.new_pairs)
    assert new == sorted(set(new)), "new pairs sorted, no duplicate"
    assert not set(new) & existing, "an existing pair created again"
    assert not set(new) & declined, "a declined pair created"
    for pair in new:
        e, r = by_entry[pair.entry_id], by_reviewer[pair.reviewer_id]
        assert e.category in r.categories, f"{pair} without expertise"
        assert conflict_reason(r, e, rules) is None, f"{pair} in conflict"

    existing_load = Counter(p.reviewer_id for p in existing)
    new_load = Counter(p.reviewer_id for p in new)
    assert plan.loads == {r: existing_load[r] + new_load[r] for r in sorted(by_reviewer)}
    for reviewer_id in new_load:
        assert plan.loads[reviewer_id] <= by_reviewer[reviewer_id].max_load, "above maximum load"

    on = reviewers_of(plan, existing)
    existing_on = Counter(p.entry_id for p in existing)
    new_on = Counter(p.entry_id for p in new)
    for e in entries:
        if existing_on[e.entry_id] >= k:
            assert new_on[e.entry_id] == 0, f"{e.entry_id} had enough reviewers"
        else:
            assert len(on.get(e.entry_id, ())) <= k
    expected_uncovered = {
        e.entry_id: k - len(on.get(e.entry_id, ()))
        for e in entries
        if len(on.get(e.entry_id, ())) < k
    }
    assert [u.entry_id for u in plan.uncovered] == sorted(expected_uncovered)
    assert {u.entry_id: u.missing for u in plan.uncovered} == expected_uncovered

    def could_take(r: ReviewerProfile, e: EntryToAssign) -> bool:
        pair = Pair(e.entry_id, r.reviewer_id)
        return (
            e.category in r.categories
            and conflict_reason(r, e, rules) is None
            and pair not in declined
            and r.reviewer_id not in on.get(e.entry_id, ())
        )

    for u in plan.uncovered:
        e = by_entry[u.entry_id]
        for r in reviewers:
            if could_take(r, e):
                assert plan.loads[r.reviewer_id] >= r.max_load, f"{r.reviewer_id} could cover {e}"
    # Moving one new pair to a reviewer with at least two fewer entries would improve balance.
    for pair in new:
        e, taken = by_entry[pair.entry_id], plan.loads[pair.reviewer_id]
        for r in reviewers:
            if could_take(r, e) and plan.loads[r.reviewer_id] < r.max_load:
                assert plan.loads[r.reviewer_id] >= taken - 1, f"{pair} better with {r}"


# --- conflicts ------------------------------------------------------------------------------------


def test_conflict_reason_names_each_kind() -> None:
    e = entry("e1", organisation="  ACME   Health ", country="ke")
    country_rule = AssignmentRules(same_country_is_conflict=True)
    assert conflict_reason(reviewer("r", organisation="acme health"), e, K3) == "same organisation"
    declared = reviewer("r", conflict_organisations={"Acme  HEALTH"})
    assert conflict_reason(declared, e, K3) == "declared conflict with the organisation"
    by_entry = reviewer("r", conflict_entries={"e1"})
    assert conflict_reason(by_entry, e, K3) == "declared conflict with the entry"
    neighbour = reviewer("r", country="KE")
    assert conflict_reason(neighbour, e, K3) is None
    assert conflict_reason(neighbour, e, country_rule) == "same country"
    assert conflict_reason(reviewer("r", conflict_entries={"e2"}), e, country_rule) is None


def test_blank_organisations_are_not_the_same_organisation() -> None:
    e = entry("e1", organisation=" ")
    r = reviewer("r", organisation="")
    assert conflict_reason(r, e, K3) is None
    plan = plan_assignment([e], [r], AssignmentRules(reviewers_per_entry=1))
    assert plan.new_pairs == (Pair("e1", "r"),)


def test_no_kind_of_conflict_is_ever_assigned() -> None:
    e = entry("e1", HEALTH, organisation="Clinic Network", country="KE")
    reviewers = [
        reviewer("a-same-org", organisation="clinic network"),
        reviewer("b-declared-org", conflict_organisations={"CLINIC NETWORK"}),
        reviewer("c-declared-entry", conflict_entries={"e1"}),
        reviewer("d-same-country", country="KE"),
        reviewer("e-declined"),
        reviewer("f-not-expert", categories={C1}),
        reviewer("x"),
        reviewer("y"),
        reviewer("z"),
    ]
    rules = AssignmentRules(same_country_is_conflict=True)
    declined = [Pair("e1", "e-declined")]
    plan = plan_assignment([e], reviewers, rules, declined=declined)
    assert {p.reviewer_id for p in plan.new_pairs} == {"x", "y", "z"}
    assert plan.uncovered == ()
    check_rules(plan, [e], reviewers, rules, declined=declined)


SAO_PAULO = "Universidade de São Paulo"  # precomposed ã (NFC), as most keyboards type it
SAO_PAULO_DECOMPOSED = unicodedata.normalize("NFD", SAO_PAULO)  # a + combining tilde


def test_an_organisation_in_another_unicode_form_is_the_same_organisation() -> None:
    e = entry("e1", organisation=SAO_PAULO)
    colleague = reviewer("a-colleague", organisation=SAO_PAULO_DECOMPOSED)
    declared = reviewer("b-declared", conflict_organisations={SAO_PAULO_DECOMPOSED.upper()})
    # As a conflict declared before the names were compared in one Unicode form was stored.
    stored_the_old_way = reviewer(
        "c-stored-the-old-way",
        conflict_organisations={" ".join(SAO_PAULO_DECOMPOSED.casefold().split())},
    )
    full_width = reviewer("d-full-width", organisation="ＡＣＭＥ  Health")
    others = [reviewer(name) for name in ("x", "y", "z")]

    assert conflict_reason(colleague, e, K3) == "same organisation"
    assert conflict_reason(declared, e, K3) == "declared conflict with the organisation"
    assert conflict_reason(stored_the_old_way, e, K3) == "declared conflict with the organisation"
    assert conflict_reason(full_width, entry("e2", organisation="acme health"), K3) == (
        "same organisation"
    )
    everyone = [colleague, declared, stored_the_old_way, *others]
    plan = plan_assignment([e], everyone, K3)
    assert {p.reviewer_id for p in plan.new_pairs} == {"x", "y", "z"}
    check_rules(plan, [e], everyone, K3)


# --- balance and coverage -------------------------------------------------------------------------


def test_unconstrained_loads_differ_by_at_most_one() -> None:
    categories = list(Category)
    entries = [entry(f"e{n:03d}", categories[n % len(categories)]) for n in range(100)]
    reviewers = [reviewer(f"r{n}") for n in range(7)]
    plan = plan_assignment(entries, reviewers, K3)
    assert plan.uncovered == ()
    assert len(plan.new_pairs) == 300
    assert sorted(plan.loads.values()) == [42] + [43] * 6
    assert plan.spread == 1
    check_rules(plan, entries, reviewers, K3)


def test_low_maximum_loads_leave_the_others_balanced() -> None:
    entries = [entry(f"e{n:02d}") for n in range(60)]
    reviewers = [reviewer(f"capped{n}", max_load=5) for n in range(2)] + [
        reviewer(f"free{n}") for n in range(8)
    ]
    plan = plan_assignment(entries, reviewers, K3)
    assert plan.uncovered == ()
    assert plan.loads["capped0"] == plan.loads["capped1"] == 5
    others = [plan.loads[f"free{n}"] for n in range(8)]
    assert sum(others) == 170
    assert max(others) - min(others) <= 1


def test_full_coverage_and_balance_with_segmented_expertise() -> None:
    # Two separate worlds of different sizes: balance holds within each, coverage is complete.
    entries = [entry(f"a{n:02d}", C1) for n in range(40)] + [
        entry(f"b{n:02d}", C2) for n in range(10)
    ]
    reviewers = [reviewer(f"ra{n}", categories={C1}) for n in range(6)] + [
        reviewer(f"rb{n}", categories={C2}) for n in range(4)
    ]
    plan = plan_assignment(entries, reviewers, K3)
    assert plan.uncovered == ()
    assert sorted(plan.loads[f"ra{n}"] for n in range(6)) == [20] * 6
    assert sorted(plan.loads[f"rb{n}"] for n in range(4)) == [7, 7, 8, 8]
    check_rules(plan, entries, reviewers, K3)


def test_bridging_experts_balance_two_categories() -> None:
    # C1 has twice C2's entries; reviewers expert in both let every load be equal (18).
    entries = [entry(f"a{n:02d}", C1) for n in range(40)] + [
        entry(f"b{n:02d}", C2) for n in range(20)
    ]
    reviewers = [
        *(reviewer(f"only-c1-{n}", categories={C1}) for n in range(3)),
        *(reviewer(f"only-c2-{n}", categories={C2}) for n in range(2)),
        *(reviewer(f"both-{n}", categories={C1, C2}) for n in range(5)),
    ]
    plan = plan_assignment(entries, reviewers, K3)
    assert plan.uncovered == ()
    assert plan.spread == 0
    assert set(plan.loads.values()) == {18}


def test_ties_do_not_always_go_to_the_alphabetically_first_reviewer() -> None:
    reviewers = [reviewer(f"r{n}") for n in range(6)]
    one = AssignmentRules(reviewers_per_entry=1)
    chosen = {
        plan_assignment([entry(f"e{n}")], reviewers, one).new_pairs[0].reviewer_id
        for n in range(30)
    }
    assert len(chosen) >= 3


# --- what cannot be covered, and why --------------------------------------------------------------


def test_an_entry_whose_experts_are_all_ruled_out_is_explained() -> None:
    e = entry("e1", HEALTH, organisation="Clinic Network")
    other = entry("e2", HEALTH, organisation="Elsewhere")
    reviewers = [
        reviewer("r1", categories={HEALTH}),  # already reviews e1
        reviewer("r2", categories={HEALTH}, organisation="Clinic  network"),
        reviewer("r3", categories={HEALTH}, conflict_entries={"e1"}),
        reviewer("r4", categories={HEALTH}),  # declined e1
        reviewer("r5", categories={HEALTH}, max_load=1),  # full with e2
        reviewer("r6", categories={C1}),
    ]
    existing = [Pair("e1", "r1"), Pair("e2", "r5")]
    declined = [Pair("e1", "r4")]
    rules = AssignmentRules(reviewers_per_entry=3)
    plan = plan_assignment([e, other], reviewers, rules, existing=existing, declined=declined)
    assert [u.entry_id for u in plan.uncovered] == ["e1"]
    gap = plan.uncovered[0]
    assert gap.missing == 2
    assert gap.category == HEALTH
    assert gap.reason == (
        "needs 3 reviewers with expertise in C7 e-health, has 1: 5 reviewers have that "
        "expertise; 1 is already assigned to it, 2 are in conflict (same organisation: 1, "
        "declared conflict with the entry: 1), 1 declined it, 1 is at their maximum load"
    )
    check_rules(plan, [e, other], reviewers, rules, existing, declined)


def test_a_category_without_experts_is_explained() -> None:
    plan = plan_assignment([entry("e1", Category.C9)], [reviewer("r1", categories={C1})], K3)
    (gap,) = plan.uncovered
    assert (gap.missing, gap.reason) == (
        3,
        "needs 3 reviewers with expertise in C9, has 0: no reviewer has that expertise",
    )


def test_maximum_loads_too_low_cover_as_many_slots_as_possible() -> None:
    entries = [entry(f"e{n}") for n in range(10)]
    reviewers = [reviewer(f"r{n}", max_load=4) for n in range(4)]
    plan = plan_assignment(entries, reviewers, K3)
    assert len(plan.new_pairs) == 16
    assert set(plan.loads.values()) == {4}
    assert sum(u.missing for u in plan.uncovered) == 30 - 16
    for gap in plan.uncovered:
        assert "at their maximum load" in gap.reason
        assert "4 reviewers have that expertise" in gap.reason
    check_rules(plan, entries, reviewers, K3)


# --- determinism ----------------------------------------------------------------------------------


def test_the_same_plan_whatever_the_order_of_the_inputs() -> None:
    rng = random.Random(3)
    categories = [C1, C2, C3]
    entries = [
        entry(f"e{n:03d}", rng.choice(categories), f"Org {rng.randrange(15)}") for n in range(120)
    ]
    reviewers = [
        reviewer(
            f"r{n:02d}",
            organisation=f"Org {rng.randrange(30)}",
            categories=rng.sample(categories, rng.randint(1, 2)),
            max_load=rng.randint(10, 40),
            conflict_organisations={f"org {rng.randrange(15)}"},
        )
        for n in range(16)
    ]
    existing = [Pair(f"e{n:03d}", f"r{n % 16:02d}") for n in range(0, 120, 7)]
    declined = [Pair(f"e{n:03d}", f"r{(n + 1) % 16:02d}") for n in range(0, 120, 5)]
    first = plan_assignment(entries, reviewers, K3, existing, declined)
    check_rules(first, entries, reviewers, K3, existing, declined)
    for _ in range(3):
        rng.shuffle(entries)
        rng.shuffle(reviewers)
        rng.shuffle(existing)
        rng.shuffle(declined)
        again = plan_assignment(entries, reviewers, K3, iter(existing), iter(declined))
        assert again == first
        assert list(again.loads) == list(first.loads)


# --- increments -----------------------------------------------------------------------------------


def test_a_late_entry_gets_reviewers_and_nothing_else_moves() -> None:
    entries = [entry(f"e{n}") for n in range(6)]
    reviewers = [reviewer(f"r{n}") for n in range(6)]
    first = plan_assignment(entries, reviewers, K3)
    assert first.uncovered == ()
    late = entry("e9")
    second = plan_assignment([*entries, late], reviewers, K3, existing=first.new_pairs)
    assert {p.entry_id for p in second.new_pairs} == {"e9"}
    assert len(second.new_pairs) == 3
    assert second.spread == 1
    check_rules(second, [*entries, late], reviewers, K3, existing=first.new_pairs)


def test_existing_loads_count_toward_balance() -> None:
    busy = [Pair(f"old{n}-{r}", r) for r in ("r0", "r1", "r2") for n in range(5)]
    light = [Pair(f"old{n}-{r}", r) for r in ("r3", "r4", "r5") for n in range(2)]
    reviewers = [reviewer(f"r{n}") for n in range(6)]
    plan = plan_assignment([entry("late")], reviewers, K3, existing=[*busy, *light])
    assert {p.reviewer_id for p in plan.new_pairs} == {"r3", "r4", "r5"}
    assert plan.loads == {"r0": 5, "r1": 5, "r2": 5, "r3": 3, "r4": 3, "r5": 3}


def test_existing_loads_count_toward_the_maximum_load() -> None:
    existing = [Pair(f"old{n}", "r-full") for n in range(3)]
    reviewers = [reviewer("r-full", max_load=3), reviewer("r-a"), reviewer("r-b")]
    plan = plan_assignment([entry("new")], reviewers, K3, existing=existing)
    assert "r-full" not in {p.reviewer_id for p in plan.new_pairs}
    assert plan.loads["r-full"] == 3
    (gap,) = plan.uncovered
    assert gap.missing == 1
    assert "1 is at their maximum load" in gap.reason


def test_a_decline_gets_a_replacement_and_is_not_recreated() -> None:
    entries = [entry("e1"), entry("e2")]
    reviewers = [reviewer(f"r{n}") for n in range(5)]
    first = plan_assignment(entries, reviewers, K3)
    gone = next(p for p in first.new_pairs if p.entry_id == "e1")
    remaining = [p for p in first.new_pairs if p != gone]
    second = plan_assignment(entries, reviewers, K3, existing=remaining, declined=[gone])
    (replacement,) = second.new_pairs
    assert replacement.entry_id == "e1"
    assert replacement != gone
    assert replacement.reviewer_id not in {p.reviewer_id for p in remaining if p.entry_id == "e1"}
    assert second.uncovered == ()
    check_rules(second, entries, reviewers, K3, existing=remaining, declined=[gone])


def test_complete_entries_get_nothing_even_from_reviewers_no_longer_listed() -> None:
    existing = [Pair("e1", "gone1"), Pair("e1", "gone2"), Pair("e1", "r1"), Pair("e2", "r1")]
    plan = plan_assignment(
        [entry("e1"), entry("e2")], [reviewer("r1"), reviewer("r2")], K3, existing
    )
    assert plan.new_pairs == (Pair("e2", "r2"),)
    assert plan.loads == {"r1": 2, "r2": 1}
    assert [(u.entry_id, u.missing) for u in plan.uncovered] == [("e2", 1)]


def test_inputs_are_validated() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AssignmentRules(reviewers_per_entry=0)
    with pytest.raises(ValueError, match="e1"):
        plan_assignment([entry("e1"), entry("e1")], [reviewer("r1")], K3)
    with pytest.raises(ValueError, match="r1"):
        plan_assignment([entry("e1")], [reviewer("r1"), reviewer("r1")], K3)


def test_nothing_to_do() -> None:
    plan = plan_assignment([], [reviewer("r1"), reviewer("r2")], K3)
    assert (plan.new_pairs, plan.uncovered, plan.loads, plan.spread) == (
        (),
        (),
        {"r1": 0, "r2": 0},
        0,
    )
    assert plan_assignment([], [], K3).spread == 0


# --- properties over random instances -------------------------------------------------------------

# entries, reviewers, rules, existing pairs, declined pairs
Instance = tuple[list[EntryToAssign], list[ReviewerProfile], AssignmentRules, set[Pair], set[Pair]]
CATEGORIES = [C1, C2, C3]
ORGANISATIONS = ["Alpha", " alpha", "Beta", "GAMMA ", "Delta"]
COUNTRIES = ["KE", "ke", "CH", "BR"]


@st.composite
def instances(
    draw: st.DrawFn, max_entries: int = 8, max_reviewers: int = 6, max_k: int = 3
) -> Instance:
    entry_ids = [f"e{n}" for n in range(draw(st.integers(0, max_entries)))]
    entries = [
        EntryToAssign(
            i,
            draw(st.sampled_from(CATEGORIES)),
            draw(st.sampled_from(ORGANISATIONS)),
            draw(st.sampled_from(COUNTRIES)),
        )
        for i in entry_ids
    ]
    reviewers = [
        ReviewerProfile(
            reviewer_id=f"r{n}",
            organisation=draw(st.sampled_from(ORGANISATIONS)),
            country=draw(st.sampled_from(COUNTRIES)),
            categories=frozenset(draw(st.sets(st.sampled_from(CATEGORIES), min_size=1))),
            max_load=draw(st.integers(0, 6)),
            conflict_organisations=frozenset(
                draw(st.sets(st.sampled_from(ORGANISATIONS), max_size=2))
            ),
            conflict_entries=frozenset(draw(st.sets(st.sampled_from(entry_ids), max_size=2)))
            if entry_ids
            else frozenset(),
        )
        for n in range(draw(st.integers(0, max_reviewers)))
    ]
    rules = AssignmentRules(draw(st.integers(1, max_k)), draw(st.booleans()))
    pairs = [Pair(e, r.reviewer_id) for e in entry_ids for r in reviewers]
    existing: set[Pair] = set()
    declined: set[Pair] = set()
    if pairs:
        existing = draw(st.sets(st.sampled_from(pairs), max_size=4))
        declined = draw(st.sets(st.sampled_from(pairs), max_size=3)) - existing
    return entries, reviewers, rules, existing, declined


FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(instances())
def test_every_plan_keeps_every_rule(instance: Instance) -> None:
    entries, reviewers, rules, existing, declined = instance
    plan = plan_assignment(entries, reviewers, rules, existing, declined)
    check_rules(plan, entries, reviewers, rules, existing, declined)


def best_possible(
    entries: Sequence[EntryToAssign],
    reviewers: Sequence[ReviewerProfile],
    rules: AssignmentRules,
    existing: set[Pair],
    declined: set[Pair],
) -> tuple[int, int, int]:
    """By enumeration: the most new pairs, then the least sum of squared loads and the least
    spread among assignments with that many."""
    k = rules.reviewers_per_entry
    existing_load = Counter(p.reviewer_id for p in existing)
    options = []
    for e in entries:
        has = {p.reviewer_id for p in existing if p.entry_id == e.entry_id}
        eligible = [
            r.reviewer_id
            for r in reviewers
            if e.category in r.categories
            and conflict_reason(r, e, rules) is None
            and Pair(e.entry_id, r.reviewer_id) not in declined | existing
        ]
        need = max(0, k - len(has))
        options.append(
            [c for size in range(need + 1) for c in itertools.combinations(eligible, size)]
        )
    room = {r.reviewer_id: max(0, r.max_load - existing_load[r.reviewer_id]) for r in reviewers}
    best: tuple[int, int, int] | None = None
    for choice in itertools.product(*options):
        new_load = Counter(r for chosen in choice for r in chosen)
        if any(n > room[r] for r, n in new_load.items()):
            continue
        loads = [existing_load[r.reviewer_id] + new_load[r.reviewer_id] for r in reviewers]
        score = (
            -sum(new_load.values()),
            sum(n * n for n in loads),
            max(loads) - min(loads) if loads else 0,
        )
        if best is None or score[0] < best[0]:
            best = score
        elif score[0] == best[0]:
            best = (best[0], min(best[1], score[1]), min(best[2], score[2]))
    assert best is not None
    return -best[0], best[1], best[2]


@FAST
@given(instances(max_entries=3, max_reviewers=4, max_k=2))
def test_plans_cover_the_most_slots_then_balance_best(instance: Instance) -> None:
    entries, reviewers, rules, existing, declined = instance
    plan = plan_assignment(entries, reviewers, rules, existing, declined)
    slots, squares, spread = best_possible(entries, reviewers, rules, existing, declined)
    assert len(plan.new_pairs) == slots
    assert sum(n * n for n in plan.loads.values()) == squares
    assert plan.spread == spread


@FAST
@given(
    st.integers(0, 40),
    st.integers(1, 12),
    st.integers(1, 4),
    st.lists(st.sampled_from(list(Category)), min_size=40, max_size=40),
)
def test_unconstrained_spread_is_at_most_one_and_all_is_covered(
    n_entries: int, n_reviewers: int, k: int, categories: list[Category]
) -> None:
    entries = [entry(f"e{n:02d}", categories[n]) for n in range(n_entries)]
    reviewers = [reviewer(f"r{n:02d}") for n in range(n_reviewers)]
    plan = plan_assignment(entries, reviewers, AssignmentRules(reviewers_per_entry=k))
    assert plan.spread <= 1
    assert len(plan.new_pairs) == n_entries * min(k, n_reviewers)
    assert (plan.uncovered == ()) == (n_entries == 0 or k <= n_reviewers)


@FAST
@given(instances(), st.randoms(use_true_random=False))
def test_plans_do_not_depend_on_input_order(instance: Instance, rng: random.Random) -> None:
    entries, reviewers, rules, existing, declined = instance
    plan = plan_assignment(entries, reviewers, rules, sorted(existing), sorted(declined))
    entries, reviewers = list(entries), list(reviewers)
    existing_order, declined_order = sorted(existing), sorted(declined)
    rng.shuffle(entries)
    rng.shuffle(reviewers)
    rng.shuffle(existing_order)
    rng.shuffle(declined_order)
    assert plan_assignment(entries, reviewers, rules, existing_order, declined_order) == plan
