"""Which reviewers review which entries: a pure, deterministic plan computed as a min-cost flow.

The formulation
---------------
One flow network per call, with integer capacities and costs::

    source --(k - existing reviewers of e, cost 0)--> entry e
    entry e --(1, cost tie(e, r))--> reviewer r      for every *eligible* pair (e, r)
    reviewer r ==(unit arcs)==> sink                  the t-th unit costs SCALE * t

A unit of flow source -> e -> r -> sink is "r reviews e". The capacities encode the hard rules:

* source -> e carries at most what the entry still lacks (k minus the pairs it already has), so
  each entry ends with at most k reviewers and complete entries get nothing new;
* e -> r exists only if r has expertise in e's category, is not in conflict with e
  (:func:`conflict_reason`), has not declined e and does not already review it; its capacity
  of 1 means a reviewer is never assigned twice to one entry;
* r -> sink is a bundle of parallel unit arcs, one per entry r may still take: from
  ``existing load + 1`` up to ``max_load`` (never more arcs than r has eligible pairs), so no
  reviewer ends above their maximum load.

Coverage first. :meth:`SimpleMinCostFlow.solve_max_flow_with_min_cost` first maximises the flow
and only then minimises cost among the maximum flows: the number of assigned slots is the
largest any assignment could reach, and balance can never be bought by leaving a slot empty.

Balance through convex costs. The t-th unit of load of a reviewer costs ``SCALE * t``; the
costs of a reviewer's bundle increase, so a min-cost flow always uses the cheapest arcs first
and a reviewer ending at load L costs ``SCALE * L(L + 1) / 2``. With the total flow fixed,
minimising that sum is minimising the sum of squared loads. The load vectors reachable by a
maximum flow form an integral polymatroid base (an M-convex set), and in such a set the
minimiser of a separable convex function of the loads is the "decreasingly minimal" vector
(Frank & Murota): it also has the smallest maximum and the largest minimum load. So the loads
differ by at most one whenever the expertise, conflicts and maximum loads let them, and are as
even as those constraints allow otherwise. Solving it exactly is cheap: one node per entry and
per reviewer, one arc per eligible pair; at 10,000 entries × 300 reviewers (700,000 arcs) the
C++ solver takes about a second.

Incremental. Existing pairs are not in the network at all: they lower their entry's source arc
(it needs fewer new reviewers), remove the pair's arc (no duplicate), and start their reviewer's
bundle at the cost of the (L + 1)-th unit (a reviewer who already has L entries is as expensive
to load as the balance says). The plan therefore only ever adds pairs, for entries that lack
reviewers: a late entry gets k, an entry whose reviewer declined gets a replacement when the
caller passes the remaining pairs as ``existing`` and the declined one as ``declined``.

Determinism. Inputs are sorted by id before the network is built, so any order of the same
entries, reviewers and pairs gives the same network and the same plan. Among equally balanced
plans, a tiny cost ``tie(e, r)`` in ``[0, TIE)``, from a keyed hash of the two ids (stable across
processes, unlike :func:`hash`), decides; it varies per pair, so ties do not always go to the
alphabetically first reviewer, and which reviewers review together is spread out.
``SCALE = slots × (TIE − 1) + 1`` is larger than the largest possible total of tie costs, so ties
never outweigh a single unit of balance: the objective is lexicographic (balance, then tie).

Entries the flow cannot complete are reported as :class:`Uncovered` with the count of experts
in the category and why each could not be used: already reviewing it, in conflict (by kind),
declined, or at their maximum load. With a maximum flow no other reason is possible: an expert
with room left and an eligible arc would be an augmenting path.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow  # type: ignore[import-untyped]

from wsis_shared.vocabulary import Category

IntArray = npt.NDArray[np.int64]

SAME_ORGANISATION = "same organisation"
DECLARED_ORGANISATION = "declared conflict with the organisation"
DECLARED_ENTRY = "declared conflict with the entry"
SAME_COUNTRY = "same country"
CONFLICT_KINDS = (SAME_ORGANISATION, DECLARED_ORGANISATION, DECLARED_ENTRY, SAME_COUNTRY)

# Tie costs are drawn from [0, TIE): wide enough to spread ties, small enough that SCALE (and
# with it the cost range the solver's cost scaling iterates over) stays modest. The tie-break
# is not free: at 10,000 × 300 the solve took 0.45 s without it, 0.9-1.3 s with TIE from 2 to 64.
TIE = 8
_COST_LIMIT = 2**60


@dataclass(frozen=True)
class ReviewerProfile:
    reviewer_id: str
    organisation: str
    country: str
    categories: frozenset[Category]
    max_load: int
    conflict_organisations: frozenset[str] = frozenset()
    conflict_entries: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EntryToAssign:
    entry_id: str
    category: Category
    organisation: str
    country: str


@dataclass(frozen=True)
class AssignmentRules:
    reviewers_per_entry: int = 3
    same_country_is_conflict: bool = False

    def __post_init__(self) -> None:
        if self.reviewers_per_entry < 1:
            raise ValueError(
                f"reviewers_per_entry must be at least 1, not {self.reviewers_per_entry}"
            )


@dataclass(frozen=True, order=True)
class Pair:
    entry_id: str
    reviewer_id: str


@dataclass(frozen=True)
class Uncovered:
    entry_id: str
    category: Category
    missing: int
    reason: str


@dataclass(frozen=True)
class AssignmentPlan:
    new_pairs: tuple[Pair, ...]
    uncovered: tuple[Uncovered, ...]
    loads: dict[str, int]

    @property
    def spread(self) -> int:
        return max(self.loads.values()) - min(self.loads.values()) if self.loads else 0


def normalised_name(name: str) -> str:
    """An organisation's name as compared for conflicts: the same name typed, pasted or stored
    in another Unicode form ("São" precomposed or as "a" + combining tilde, full-width letters,
    ligatures), in another case or with other spacing is the same organisation.

    Unicode's compatibility caseless match (D146): decomposing before each case fold catches
    the characters whose fold is not itself normalised. Names stored folded the older way
    (case and spaces only) come out the same when normalised again here, so every comparison
    normalises both sides instead of trusting what is stored."""
    decomposed = unicodedata.normalize("NFD", name)
    folded = unicodedata.normalize("NFKD", decomposed.casefold()).casefold()
    return " ".join(unicodedata.normalize("NFKC", folded).split())


@lru_cache(maxsize=4096)
def _normalised_names(names: frozenset[str]) -> frozenset[str]:
    # Cached: conflict_reason is asked about every expert of every uncovered entry.
    return frozenset(normalised_name(n) for n in names) - {""}


def _country(code: str) -> str:
    return code.strip().upper()


def conflict_reason(
    reviewer: ReviewerProfile, entry: EntryToAssign, rules: AssignmentRules
) -> str | None:
    """None, or "same organisation" / "declared conflict with the organisation" / "declared
    conflict with the entry" / "same country" (only when rules say so)."""
    organisation = normalised_name(entry.organisation)
    # An organisation left blank is unknown, not an organisation every blank reviewer works for.
    if organisation:
        if organisation == normalised_name(reviewer.organisation):
            return SAME_ORGANISATION
        if organisation in _normalised_names(reviewer.conflict_organisations):
            return DECLARED_ORGANISATION
    if entry.entry_id in reviewer.conflict_entries:
        return DECLARED_ENTRY
    if rules.same_country_is_conflict:
        country = _country(entry.country)
        if country and country == _country(reviewer.country):
            return SAME_COUNTRY
    return None


@dataclass(frozen=True)
class _Instance:
    """The inputs sorted by id and indexed, with the existing pairs counted."""

    entries: tuple[EntryToAssign, ...]
    reviewers: tuple[ReviewerProfile, ...]
    rules: AssignmentRules
    existing: frozenset[Pair]
    declined: frozenset[Pair]
    need: IntArray  # per entry: reviewers still lacking
    existing_load: IntArray  # per reviewer


def _instance(
    entries: Sequence[EntryToAssign],
    reviewers: Sequence[ReviewerProfile],
    rules: AssignmentRules,
    existing: Iterable[Pair],
    declined: Iterable[Pair],
) -> _Instance:
    sorted_entries = tuple(sorted(entries, key=lambda e: e.entry_id))
    sorted_reviewers = tuple(sorted(reviewers, key=lambda r: r.reviewer_id))
    for kind, ids in (
        ("entry", [e.entry_id for e in sorted_entries]),
        ("reviewer", [r.reviewer_id for r in sorted_reviewers]),
    ):
        duplicates = sorted({a for a, b in pairwise(ids) if a == b})
        if duplicates:
            raise ValueError(f"{kind} ids passed more than once: {', '.join(duplicates)}")
    existing_pairs = frozenset(existing)
    # A pair whose reviewer is no longer passed in still counts for its entry: it exists.
    per_entry = Counter(p.entry_id for p in existing_pairs)
    per_reviewer = Counter(p.reviewer_id for p in existing_pairs)
    k = rules.reviewers_per_entry
    return _Instance(
        entries=sorted_entries,
        reviewers=sorted_reviewers,
        rules=rules,
        existing=existing_pairs,
        declined=frozenset(declined),
        need=np.array([max(0, k - per_entry[e.entry_id]) for e in sorted_entries], np.int64),
        existing_load=np.array([per_reviewer[r.reviewer_id] for r in sorted_reviewers], np.int64),
    )


def _stable_hashes(ids: Iterable[str], key: bytes) -> npt.NDArray[np.uint64]:
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(i.encode(), digest_size=8, key=key).digest(), "little")
            for i in ids
        ],
        dtype=np.uint64,
    )


def _tie_costs(instance: _Instance, pair_entries: IntArray, pair_reviewers: IntArray) -> IntArray:
    """A pseudo-random value in [0, TIE) per pair, a function of the two ids only."""
    entry_hash = _stable_hashes((e.entry_id for e in instance.entries), b"entry")
    reviewer_hash = _stable_hashes((r.reviewer_id for r in instance.reviewers), b"reviewer")
    # One blake2b per id instead of per pair (10,000 + 300, not 3 million), mixed per pair by
    # the splitmix64 finaliser, vectorised (uint64 arithmetic wraps, as it should here).
    x = entry_hash[pair_entries] ^ (reviewer_hash[pair_reviewers] * np.uint64(0x9E3779B97F4A7C15))
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x % np.uint64(TIE)).astype(np.int64)


def _eligible_pairs(instance: _Instance) -> tuple[IntArray, IntArray]:
    """(entry index, reviewer index) of every pair the plan may create, by category."""
    entries, reviewers, rules = instance.entries, instance.reviewers, instance.rules
    n_reviewers = len(reviewers)
    organisations: dict[str, int] = {}

    def organisation_id(name: str, blank: int) -> int:
        normalised = normalised_name(name)
        return organisations.setdefault(normalised, len(organisations)) if normalised else blank

    # Distinct sentinels: two blank organisations are not "the same organisation".
    entry_org = np.array([organisation_id(e.organisation, -1) for e in entries], np.int64)
    reviewer_org = np.array([organisation_id(r.organisation, -2) for r in reviewers], np.int64)
    countries: dict[str, int] = {}

    def country_id(code: str, blank: int) -> int:
        normalised = _country(code)
        return countries.setdefault(normalised, len(countries)) if normalised else blank

    entry_country = np.array([country_id(e.country, -1) for e in entries], np.int64)
    reviewer_country = np.array([country_id(r.country, -2) for r in reviewers], np.int64)

    # Pairs ruled out one by one, as keys entry * n_reviewers + reviewer.
    entry_index = {e.entry_id: i for i, e in enumerate(entries)}
    reviewer_index = {r.reviewer_id: j for j, r in enumerate(reviewers)}
    entries_of_org: dict[int, list[int]] = {}
    for i, org in enumerate(entry_org.tolist()):
        entries_of_org.setdefault(org, []).append(i)
    excluded: list[int] = []
    for j, reviewer in enumerate(reviewers):
        for name in _normalised_names(reviewer.conflict_organisations):
            org_entries = entries_of_org.get(organisations.get(name, -3), [])
            excluded.extend(i * n_reviewers + j for i in org_entries)
        excluded.extend(
            entry_index[e] * n_reviewers + j for e in reviewer.conflict_entries if e in entry_index
        )
    for pair in instance.existing | instance.declined:
        pair_entry = entry_index.get(pair.entry_id)
        pair_reviewer = reviewer_index.get(pair.reviewer_id)
        if pair_entry is not None and pair_reviewer is not None:
            excluded.append(pair_entry * n_reviewers + pair_reviewer)
    excluded_keys = np.unique(np.array(excluded, np.int64))

    room = np.array([r.max_load for r in reviewers], np.int64) - instance.existing_load
    entries_of_category: dict[str, list[int]] = {}
    for i, entry in enumerate(entries):
        entries_of_category.setdefault(entry.category, []).append(i)
    pair_entries: list[IntArray] = []
    pair_reviewers: list[IntArray] = []
    for category in sorted(entries_of_category):
        in_category = np.array(entries_of_category[category], np.int64)
        rows = in_category[instance.need[in_category] > 0]
        columns = np.array(
            [j for j, r in enumerate(reviewers) if category in r.categories and room[j] > 0],
            np.int64,
        )
        if rows.size == 0 or columns.size == 0:
            continue
        e = np.repeat(rows, columns.size)
        r = np.tile(columns, rows.size)
        keep = entry_org[e] != reviewer_org[r]
        if rules.same_country_is_conflict:
            keep &= entry_country[e] != reviewer_country[r]
        if excluded_keys.size:
            # The grid's keys are already increasing: a binary search in the sorted exclusions
            # avoids the sort np.isin would do (four times faster at 10,000 entries).
            keys = e * n_reviewers + r
            at = np.minimum(np.searchsorted(excluded_keys, keys), excluded_keys.size - 1)
            keep &= excluded_keys[at] != keys
        pair_entries.append(e[keep])
        pair_reviewers.append(r[keep])
    if not pair_entries:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(pair_entries), np.concatenate(pair_reviewers)


@dataclass(frozen=True)
class FlowNetwork:
    """The network :func:`plan_assignment` solves, as the arrays OR-Tools loads.

    Public so a benchmark can time the bare solver on the very same network."""

    num_nodes: int
    source: int
    sink: int
    supply: int  # at the source (the sink's is its opposite): every slot still lacking
    tails: npt.NDArray[np.int32]
    heads: npt.NDArray[np.int32]
    capacities: IntArray
    unit_costs: IntArray
    pair_entries: IntArray  # arcs 0 .. len(pair_entries) - 1 are entry -> reviewer arcs
    pair_reviewers: IntArray
    scale: int  # cost of one unit of balance

    def solver(self) -> min_cost_flow.SimpleMinCostFlow:
        """A SimpleMinCostFlow loaded with this network, not yet solved."""
        solver = min_cost_flow.SimpleMinCostFlow()
        solver.add_arcs_with_capacity_and_unit_cost(
            self.tails, self.heads, self.capacities, self.unit_costs
        )
        solver.set_node_supply(self.source, self.supply)
        solver.set_node_supply(self.sink, -self.supply)
        return solver


def _network(instance: _Instance) -> FlowNetwork:
    n_entries, n_reviewers = len(instance.entries), len(instance.reviewers)
    source, sink = 0, n_entries + n_reviewers + 1
    entry_node, reviewer_node = 1, 1 + n_entries  # node of entry i: entry_node + i
    pair_entries, pair_reviewers = _eligible_pairs(instance)
    supply = int(instance.need.sum())

    # A reviewer never takes more units than it has eligible pairs (nor than there are slots):
    # more arcs would never carry flow, and a generous max_load would cost millions of them.
    room = np.array([r.max_load for r in instance.reviewers], np.int64) - instance.existing_load
    degree = np.bincount(pair_reviewers, minlength=n_reviewers).astype(np.int64)
    units = np.minimum(np.maximum(room, 0), np.minimum(degree, supply))
    unit_reviewer = np.repeat(np.arange(n_reviewers, dtype=np.int64), units)
    first_unit = np.repeat(np.cumsum(units) - units, units)
    # The t-th unit of a reviewer already at load L is its (L + t)-th: existing load counts.
    load_after = (
        instance.existing_load[unit_reviewer] + (np.arange(unit_reviewer.size) - first_unit) + 1
    )

    highest_load = int(load_after.max()) if load_after.size else 0
    tie = TIE
    scale = supply * (tie - 1) + 1
    # Cost scaling multiplies costs by about the number of nodes, and the total cost sums a
    # cost per unit of flow: both must stay far from int64 overflow.
    if (scale * highest_load + tie) * (sink + 2 + supply) > _COST_LIMIT:
        # Absurdly large instances: give up the tie-break rather than risk overflow.
        tie, scale = 1, 1
    ties = (
        _tie_costs(instance, pair_entries, pair_reviewers)
        if tie > 1
        else np.zeros(pair_entries.size, np.int64)
    )

    needy = np.flatnonzero(instance.need > 0)
    tails = np.concatenate(
        [pair_entries + entry_node, np.full(needy.size, source), unit_reviewer + reviewer_node]
    )
    heads = np.concatenate(
        [pair_reviewers + reviewer_node, needy + entry_node, np.full(unit_reviewer.size, sink)]
    )
    capacities = np.concatenate(
        [
            np.ones(pair_entries.size, np.int64),
            instance.need[needy],
            np.ones(unit_reviewer.size, np.int64),
        ]
    )
    unit_costs = np.concatenate([ties, np.zeros(needy.size, np.int64), load_after * scale])
    return FlowNetwork(
        num_nodes=sink + 1,
        source=source,
        sink=sink,
        supply=supply,
        tails=tails.astype(np.int32),
        heads=heads.astype(np.int32),
        capacities=capacities.astype(np.int64),
        unit_costs=unit_costs.astype(np.int64),
        pair_entries=pair_entries,
        pair_reviewers=pair_reviewers,
        scale=scale,
    )


def flow_network(
    entries: Sequence[EntryToAssign],
    reviewers: Sequence[ReviewerProfile],
    rules: AssignmentRules,
    existing: Iterable[Pair] = (),
    declined: Iterable[Pair] = (),
) -> FlowNetwork:
    """The network :func:`plan_assignment` would solve for these arguments."""
    return _network(_instance(entries, reviewers, rules, existing, declined))


def _solve(network: FlowNetwork) -> npt.NDArray[np.bool_]:
    """Which entry -> reviewer arcs carry flow."""
    if network.supply == 0 or network.pair_entries.size == 0:
        return np.zeros(network.pair_entries.size, np.bool_)
    solver = network.solver()
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"the min-cost flow solver failed: {status}")
    flows = np.asarray(solver.flows(np.arange(network.pair_entries.size, dtype=np.int32)))
    chosen: npt.NDArray[np.bool_] = flows > 0
    return chosen


def plan_assignment(
    entries: Sequence[EntryToAssign],
    reviewers: Sequence[ReviewerProfile],
    rules: AssignmentRules,
    existing: Iterable[Pair] = (),
    declined: Iterable[Pair] = (),
) -> AssignmentPlan:
    """New pairs so that every entry has ``rules.reviewers_per_entry`` reviewers where possible,
    loads as even as possible; ``existing`` pairs are kept, ``declined`` pairs never created.

    See the module docstring for the formulation."""
    instance = _instance(entries, reviewers, rules, existing, declined)
    network = _network(instance)
    chosen = _solve(network)
    new_entries, new_reviewers = network.pair_entries[chosen], network.pair_reviewers[chosen]
    new_pairs = tuple(
        sorted(
            Pair(instance.entries[i].entry_id, instance.reviewers[j].reviewer_id)
            for i, j in zip(new_entries.tolist(), new_reviewers.tolist(), strict=True)
        )
    )
    loads = instance.existing_load + np.bincount(new_reviewers, minlength=len(instance.reviewers))
    added = np.bincount(new_entries, minlength=len(instance.entries))
    missing = instance.need - added
    load_of = {r.reviewer_id: int(n) for r, n in zip(instance.reviewers, loads, strict=True)}
    new_set = frozenset(new_pairs)
    uncovered = tuple(
        Uncovered(
            entry_id=entry.entry_id,
            category=entry.category,
            missing=int(missing[i]),
            reason=_reason(instance, entry, int(missing[i]), load_of, new_set),
        )
        for i, entry in enumerate(instance.entries)
        if missing[i] > 0
    )
    return AssignmentPlan(new_pairs=new_pairs, uncovered=uncovered, loads=load_of)


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _reason(
    instance: _Instance,
    entry: EntryToAssign,
    missing: int,
    load_of: dict[str, int],
    new_pairs: frozenset[Pair],
) -> str:
    k = instance.rules.reviewers_per_entry
    label = entry.category.replace(".", " ")
    head = f"needs {k} reviewers with expertise in {label}, has {k - missing}"
    experts = [r for r in instance.reviewers if entry.category in r.categories]
    if not experts:
        return f"{head}: no reviewer has that expertise"
    assigned = declined = full = free = 0
    conflicts: Counter[str] = Counter()
    # Each expert is counted once, under the first reason that rules them out.
    for reviewer in experts:
        pair = Pair(entry.entry_id, reviewer.reviewer_id)
        if pair in instance.existing or pair in new_pairs:
            assigned += 1
        elif why := conflict_reason(reviewer, entry, instance.rules):
            conflicts[why] += 1
        elif pair in instance.declined:
            declined += 1
        elif load_of[reviewer.reviewer_id] >= reviewer.max_load:
            full += 1
        else:
            free += 1  # impossible after a maximum flow; counted so the numbers add up
    parts: list[str] = []
    if assigned:
        parts.append(f"{_count(assigned, 'is', 'are')} already assigned to it")
    if conflicts:
        kinds = ", ".join(
            f"{kind}: {conflicts[kind]}" for kind in CONFLICT_KINDS if conflicts[kind]
        )
        parts.append(f"{_count(conflicts.total(), 'is', 'are')} in conflict ({kinds})")
    if declined:
        parts.append(f"{declined} declined it")
    if full:
        parts.append(f"{_count(full, 'is', 'are')} at their maximum load")
    if free:
        parts.append(f"{_count(free, 'was', 'were')} left free")
    experts_text = _count(len(experts), "reviewer has", "reviewers have")
    return f"{head}: {experts_text} that expertise; {', '.join(parts)}"
