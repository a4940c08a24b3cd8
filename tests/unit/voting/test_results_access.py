"""After the close: who sees the champions' counts and the bulletin (the rule of the results:
the public once counts are public, admins always), rulings that matched nothing in the audit
trail, and bulletin bodies computed once per process for concurrent readers."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest

from tests.unit.voting.fakes import FakeRunner, State, StoredVote
from tests.unit.voting.test_ballot import NOW, YEAR, _edition, _nominee
from wsis_shared.auth import Principal
from wsis_shared.errors import PhaseClosed
from wsis_shared.events import Finalist
from wsis_shared.vocabulary import Category, Phase, Role
from wsis_voting.domain.ballot import CategoryResults, Vote
from wsis_voting.domain.invalidation import InvalidationRule
from wsis_voting.domain.results import TIE_BREAK_RULE
from wsis_voting.entrypoints.http.results import SharedBulletins
from wsis_voting.service_layer import closing, invalidation

ADMIN = Principal(subject="admin", roles=frozenset({Role.ADMIN}))
SALT = "5a17" * 8


def _decided(phase: Phase, *, show_running_counts: bool = False) -> FakeRunner:
    """An edition whose C4 results were decided at the close: entry-2 three votes, entry-1 one."""
    edition = _edition(phase, show_running_counts=show_running_counts)
    edition.finalised_at = NOW
    votes = {}
    for n, entry in enumerate(["entry-2", "entry-2", "entry-2", "entry-1"]):
        vote = Vote(
            receipt_id=f"receipt-{n}",
            edition=YEAR,
            category=Category.C4,
            entry_id=entry,
            voter=f"voter-{n}",
            cast_at=NOW - timedelta(minutes=n),
        )
        votes[vote.receipt_id] = StoredVote(vote, counted=True)
    results = CategoryResults(
        edition=YEAR,
        category=Category.C4,
        finalists=(
            Finalist(entry_id="entry-2", votes=3, rank=1),
            Finalist(entry_id="entry-1", votes=1, rank=2),
        ),
        tie_break_rule=TIE_BREAK_RULE,
        bulletin_salt=SALT,
        valid_votes=4,
        decided_at=NOW,
    )
    nominees = [_nominee("entry-1"), _nominee("entry-2")]
    return FakeRunner(
        State(
            editions={YEAR: edition},
            nominees={n.entry_id: n for n in nominees},
            votes=votes,
            results={results.key: results},
        )
    )


# --- champions and the bulletin follow the rule of the results ----------------------------------


@pytest.mark.parametrize(
    ("phase", "show_running_counts", "public"),
    [
        (Phase.SELECTION, False, False),  # the expert group judges: counts stay hidden
        (Phase.SELECTION, True, True),  # the edition shows running counts
        (Phase.RESULTS, False, True),
        (Phase.CLOSED, False, True),
    ],
)
async def test_the_champions_counts_follow_the_rule_of_the_results(
    phase: Phase, show_running_counts: bool, public: bool
) -> None:
    runner = _decided(phase, show_running_counts=show_running_counts)

    counts_public, decided = await closing.champions(runner, year=YEAR, privileged=False)
    assert counts_public is public
    assert [f.entry_id for f in decided[0].finalists] == ["entry-2", "entry-1"], "always listed"
    counts_public, _ = await closing.champions(runner, year=YEAR, privileged=True)
    assert counts_public, "admins always see the counts"


async def test_the_bulletin_is_published_with_the_results_not_before() -> None:
    runner = _decided(Phase.SELECTION)

    with pytest.raises(PhaseClosed) as refused:
        await closing.bulletin(runner, year=YEAR, category=Category.C4, privileged=False)
    assert refused.value.status == 409
    assert "published with the results on 2027-05-11 00:00 UTC" in refused.value.detail
    assert refused.value.extensions["required_phase"] == Phase.RESULTS
    with pytest.raises(PhaseClosed):  # the cheap look-up is refused alike
        await closing.bulletin(
            runner, year=YEAR, category=Category.C4, privileged=False, hashes=False
        )

    found = await closing.bulletin(runner, year=YEAR, category=Category.C4, privileged=True)
    assert found is not None
    assert {entry: len(listed) for entry, listed in found[1].items()} == {
        "entry-1": 1,
        "entry-2": 3,
    }, "admins see it at once"

    runner.state.editions[YEAR].phase = Phase.RESULTS
    public = await closing.bulletin(runner, year=YEAR, category=Category.C4, privileged=False)
    assert public is not None
    mine = hashlib.sha256(f"{SALT}:receipt-3".encode()).hexdigest()
    assert public[1]["entry-1"] == [mine]


async def test_the_bulletins_cheap_look_up_reads_no_vote() -> None:
    runner = _decided(Phase.RESULTS)
    runner.state.votes.clear()  # had it read them, the lists would be empty all the same …
    found = await closing.bulletin(
        runner, year=YEAR, category=Category.C4, privileged=False, hashes=False
    )
    assert found is not None
    results, hashes, final = found
    assert (results.bulletin_salt, hashes, final) == (
        SALT,
        {},
        True,
    )  # … but not even the finalists' keys


async def test_no_bulletin_before_the_close() -> None:
    runner = _decided(Phase.RESULTS)
    runner.state.results.clear()
    assert await closing.bulletin(runner, year=YEAR, category=Category.C4, privileged=True) is None


# --- rulings -------------------------------------------------------------------------------------


async def test_a_ruling_that_matches_nothing_is_in_the_audit_trail_too() -> None:
    runner = _decided(Phase.VOTING)
    runner.state.editions[YEAR].finalised_at = None
    rule = InvalidationRule(reason="a farm that never voted", voters=("nobody",))

    preview = await invalidation.rule_out_votes(
        runner, year=YEAR, rule=rule, dry_run=True, admin=ADMIN, now=NOW
    )
    ruling = await invalidation.rule_out_votes(
        runner, year=YEAR, rule=rule, dry_run=False, admin=ADMIN, now=NOW
    )

    assert ruling.votes_ruled_out == 0
    trail = await invalidation.invalidations(runner, year=YEAR)
    assert [(i.invalidation_id, i.votes_ruled_out) for i in trail] == [
        (ruling.invalidation_id, 0)
    ], "the id the admin was given can be found; a dry run is not a ruling"
    assert preview.invalidation_id not in {i.invalidation_id for i in trail}
    assert runner.published == [], "nothing changed: nobody else needs to hear of it"


# --- bulletin bodies, shared per process ---------------------------------------------------------


class Computations:
    def __init__(self, body: bytes = b"{}", delay_s: float = 0.05) -> None:
        self.calls = 0
        self.body = body
        self.delay_s = delay_s

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return self.body


KEY = (YEAR, Category.C4, '"etag"')


async def test_concurrent_readers_share_one_computation_and_it_is_kept_a_while() -> None:
    bulletins = SharedBulletins(kept_s=60)
    compute = Computations(b'{"salt": "..."}')

    bodies = await asyncio.gather(*(bulletins.get(KEY, compute) for _ in range(20)))

    assert set(bodies) == {b'{"salt": "..."}'}
    assert compute.calls == 1
    assert await bulletins.get(KEY, compute) == compute.body
    assert compute.calls == 1, "kept: the next reader gets the same bytes"


async def test_a_kept_bulletin_is_computed_again_after_a_while() -> None:
    bulletins = SharedBulletins(kept_s=0.01)
    compute = Computations(delay_s=0)
    await bulletins.get(KEY, compute)
    await asyncio.sleep(0.02)
    await bulletins.get(KEY, compute)
    assert compute.calls == 2


async def test_only_the_latest_few_bulletins_are_kept_within_a_byte_budget() -> None:
    bulletins = SharedBulletins(kept=2, kept_bytes=25, kept_s=60)
    computed = {c: Computations(c.value.encode() * 5, delay_s=0) for c in Category}
    c4, c9, c5 = Category.C4, Category.C9, Category.C5

    for category in (c4, c9, c5):  # three categories, two kept: C4 goes
        await bulletins.get((YEAR, category, "e"), computed[category])
    await bulletins.get((YEAR, c4, "e"), computed[c4])
    assert computed[c4].calls == 2
    await bulletins.get((YEAR, c5, "e"), computed[c5])
    assert computed[c5].calls == 1

    big = Computations(b"x" * 100, delay_s=0)  # past the byte budget alone: kept, the only one
    await bulletins.get((YEAR, Category.C10, "e"), big)
    await bulletins.get((YEAR, Category.C10, "e"), big)
    assert big.calls == 1
    await bulletins.get((YEAR, c5, "e"), computed[c5])
    assert computed[c5].calls == 2, "the budget dropped the others"


async def test_a_reader_who_hangs_up_does_not_cancel_the_others_computation() -> None:
    bulletins = SharedBulletins()
    compute = Computations(delay_s=0.05)
    first = asyncio.create_task(bulletins.get(KEY, compute))
    second = asyncio.create_task(bulletins.get(KEY, compute))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == compute.body
    assert compute.calls == 1


async def test_a_failed_computation_reaches_every_reader_and_the_next_one_tries_again() -> None:
    bulletins = SharedBulletins()
    calls = 0

    async def failing() -> bytes:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise ConnectionError("mongod went away")

    results = await asyncio.gather(
        *(bulletins.get(KEY, failing) for _ in range(3)), return_exceptions=True
    )
    assert [type(r) for r in results] == [ConnectionError] * 3
    assert calls == 1
    assert await bulletins.get(KEY, Computations(delay_s=0)) == b"{}"
