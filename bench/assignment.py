"""Reviewer assignment of 10,000 entries to 300 reviewers, 3 reviewers each (no broker, no db).

A seeded random edition: entries over the 18 categories (unequal sizes), ~2,000 organisations
in 40 countries; reviewers with expertise in 2–5 categories, the experts of each category in
proportion to its entries (so that loads can be balanced globally), a maximum load of 200, and
about 5% of the (entry, expert) pairs in conflict: some reviewers work for an entrant
organisation, the others declare conflicts with organisations and single entries.

Printed: the time of `plan_assignment` (best of three), its coverage (entries with k
reviewers, against the entries that have at least k experts free of conflict), the load spread
(max − min over all reviewers), and the ceiling measured in the same run: the bare
`SimpleMinCostFlow` solve of the very network `plan_assignment` builds (arcs loaded
beforehand, not timed; best of three).

Run alone with `python -m bench.assignment`.
"""

from __future__ import annotations

import os
import random
import time
from collections import defaultdict

from wsis_review.domain.assignment import (
    AssignmentRules,
    EntryToAssign,
    ReviewerProfile,
    conflict_reason,
    flow_network,
    plan_assignment,
)
from wsis_shared.vocabulary import Category

ENTRIES = int(os.environ.get("BENCH_ASSIGNMENT_ENTRIES", "10000"))
REVIEWERS = 300
ORGANISATIONS = 2000
K = 3
MAX_LOAD = 200
CONFLICT_SHARE = 0.05
SEED = 2027
ROUNDS = 3
# 40 ISO 3166-1 codes, kept on two lines rather than forty.
COUNTRIES = (  # noqa: SIM905
    "KE BR IN EE EG KZ NP PE NG ZA GH SN MA TN ET UG RW TZ AR CL CO MX US CA FR DE ES IT PL "
    "RO TR SA AE PK BD ID PH VN CN JP"
).split()


def edition(seed: int = SEED) -> tuple[list[EntryToAssign], list[ReviewerProfile]]:
    rng = random.Random(seed)
    categories = list(Category)
    weights = [rng.uniform(0.5, 2.0) for _ in categories]
    org_country = [rng.choice(COUNTRIES) for _ in range(ORGANISATIONS)]
    entries: list[EntryToAssign] = []
    for n in range(ENTRIES):
        org = rng.randrange(ORGANISATIONS)
        entries.append(
            EntryToAssign(
                entry_id=f"entry-{n:05d}",
                category=rng.choices(categories, weights)[0],
                organisation=f"Organisation {org}",
                country=org_country[org],
            )
        )
    per_category: dict[Category, list[EntryToAssign]] = defaultdict(list)
    for entry in entries:
        per_category[entry.category].append(entry)

    # Experts per category in proportion to its entries: each reviewer takes the categories
    # furthest below their share so far (with a little noise so sets vary).
    sizes = [rng.randint(2, 5) for _ in range(REVIEWERS)]
    target = {c: sum(sizes) * len(per_category[c]) / ENTRIES for c in categories}
    experts = dict.fromkeys(categories, 0)
    expertise: list[frozenset[Category]] = []
    for size in sizes:
        ranked = sorted(categories, key=lambda c: experts[c] - target[c] + rng.random() * 2)
        chosen = frozenset(ranked[:size])
        for c in chosen:
            experts[c] += 1
        expertise.append(chosen)

    by_org_category: dict[tuple[str, Category], list[EntryToAssign]] = defaultdict(list)
    for entry in entries:
        by_org_category[entry.organisation, entry.category].append(entry)
    reviewers: list[ReviewerProfile] = []
    for n, cats in enumerate(expertise):
        # A third work for an entrant organisation: "same organisation" conflicts.
        own = f"Organisation {rng.randrange(ORGANISATIONS)}" if n % 3 == 0 else f"Institute {n}"
        pool = [e for c in sorted(cats) for e in per_category[c]]
        conflicted = {e.entry_id for e in pool if e.organisation == own}
        wanted = round(CONFLICT_SHARE * len(pool))
        orgs: set[str] = set()
        declared_entries: set[str] = set()
        for entry in rng.sample(pool, len(pool)):
            if len(conflicted) >= wanted:
                break
            if entry.entry_id in conflicted:
                continue
            if rng.random() < 0.6:
                orgs.add(entry.organisation)
                conflicted |= {
                    e.entry_id for c in cats for e in by_org_category[entry.organisation, c]
                }
            else:
                declared_entries.add(entry.entry_id)
                conflicted.add(entry.entry_id)
        reviewers.append(
            ReviewerProfile(
                reviewer_id=f"reviewer-{n:03d}",
                # Typed by hand: case and spacing differ from the entries' spelling.
                organisation=own.upper() if n % 2 else own.replace(" ", "  "),
                country=rng.choice(COUNTRIES),
                categories=cats,
                max_load=MAX_LOAD,
                conflict_organisations=frozenset(o.lower() for o in orgs),
                conflict_entries=frozenset(declared_entries),
            )
        )
    return entries, reviewers


def main() -> str:
    entries, reviewers = edition()
    rules = AssignmentRules(reviewers_per_entry=K)

    # The instance, as `conflict_reason` sees it (not timed).
    expert_pairs = conflicted = feasible = 0
    experts_of: dict[Category, list[ReviewerProfile]] = defaultdict(list)
    for reviewer in reviewers:
        for c in reviewer.categories:
            experts_of[c].append(reviewer)
    for entry in entries:
        free = 0
        for reviewer in experts_of[entry.category]:
            expert_pairs += 1
            if conflict_reason(reviewer, entry, rules) is None:
                free += 1
            else:
                conflicted += 1
        feasible += free >= K

    # Best of ROUNDS, the plan and the bare solve alternating: on a shared 2-core machine a
    # single run of either can be twice as slow as the other for reasons of its own.
    total_s = solve_s = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        plan = plan_assignment(entries, reviewers, rules)
        total_s = min(total_s, time.perf_counter() - started)

        network = flow_network(entries, reviewers, rules)
        solver = network.solver()
        started = time.perf_counter()
        status = solver.solve_max_flow_with_min_cost()
        solve_s = min(solve_s, time.perf_counter() - started)
        if status != solver.OPTIMAL:
            raise RuntimeError(f"bare solve failed: {status}")

    by_id = {r.reviewer_id: r for r in reviewers}
    entry_of = {e.entry_id: e for e in entries}
    for pair in plan.new_pairs:
        entry, reviewer = entry_of[pair.entry_id], by_id[pair.reviewer_id]
        if entry.category not in reviewer.categories or conflict_reason(reviewer, entry, rules):
            raise AssertionError(f"the plan broke a rule: {pair}")
    covered = ENTRIES - len(plan.uncovered)
    loads = plan.loads.values()
    lines = [
        f"assignment: {ENTRIES:,} entries, {REVIEWERS} reviewers, k={K}, "
        f"{conflicted / expert_pairs:.1%} of {expert_pairs:,} expert pairs in conflict: "
        f"planned in {total_s:.2f} s (best of {ROUNDS}); {covered:,} entries with {K} reviewers "
        f"({covered / ENTRIES:.1%}; {feasible:,} feasible); "
        f"load spread {plan.spread} ({min(loads)}–{max(loads)})",
        f"  bare SimpleMinCostFlow solve of the same network ({network.num_nodes:,} nodes, "
        f"{network.tails.size:,} arcs) (ceiling): {solve_s:.2f} s -> ratio "
        f"{total_s / solve_s:.2f}",
    ]
    if plan.spread > 1:
        by_expertise: dict[frozenset[Category], list[int]] = defaultdict(list)
        for reviewer in reviewers:
            by_expertise[reviewer.categories].append(plan.loads[reviewer.reviewer_id])
        worst = max(max(v) - min(v) for v in by_expertise.values())
        lines.append(f"  largest spread among reviewers with the same expertise: {worst}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(), flush=True)
