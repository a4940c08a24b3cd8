"""Casting, counting, ruling votes out, and the close of the window: finalists with the tie rule,
the bulletin, and the tally's verification."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError

from tests.unit.voting.fakes import FakeRunner, InMemoryVoteStore, State
from tests.unit.voting.test_ballot import KEY, NOW, VOTER, YEAR, _edition, _nominee
from wsis_shared.auth import Principal
from wsis_shared.errors import Conflict, InvalidInput, PhaseClosed
from wsis_shared.events import (
    ChampionsAnnounced,
    EditionChange,
    EditionSchedule,
    PhaseChange,
    VotesRuledOut,
    encode,
    topic_of,
)
from wsis_shared.vocabulary import Category, Phase, Role
from wsis_voting.domain.ballot import AlreadyVoted, Vote, tally_key, voter_pseudonym
from wsis_voting.domain.invalidation import InvalidationRule
from wsis_voting.domain.results import NomineeCount, draw, finalists, rank
from wsis_voting.entrypoints.http.voting import VoteCreate
from wsis_voting.service_layer import closing, invalidation, tally_audit
from wsis_voting.service_layer.casting import cast_vote
from wsis_voting.service_layer.unit_of_work import UnitOfWork
from wsis_voting.service_layer.voting import (
    count_votes,
    record_edition,
    record_phase,
    results,
    votes_of,
)

ADMIN = Principal(subject="admin", roles=frozenset({Role.ADMIN}))


@pytest.fixture
def runner() -> FakeRunner:
    nominees = [
        _nominee("entry-1", Category.C4),
        _nominee("entry-2", Category.C4),
        _nominee("entry-3", Category.C9),
        _nominee("entry-4", Category.C4, nominated=False),
    ]
    return FakeRunner(
        State(editions={YEAR: _edition()}, nominees={n.entry_id: n for n in nominees})
    )


async def vote(
    runner: FakeRunner,
    entry_id: str = "entry-1",
    category: Category = Category.C4,
    voter: str = VOTER,
    *,
    minutes: int = 0,
    ip: str | None = None,
    key: str | None = None,
) -> Vote:
    return await cast_vote(
        InMemoryVoteStore(runner),
        edition=YEAR,
        category=category,
        entry_id=entry_id,
        voter=voter,
        now=NOW + timedelta(minutes=minutes),
        ip=ip,
        idempotency_key=key,
    )


async def count_all(runner: FakeRunner) -> None:
    events = [stored.vote.event(KEY) for stored in runner.state.votes.values()]

    async def work(uow: UnitOfWork) -> None:
        await count_votes(uow, events)

    await runner.run(work)


# --- casting -------------------------------------------------------------------------------


async def test_a_vote_is_stored_with_its_receipt(runner: FakeRunner) -> None:
    cast = await vote(runner)

    assert await votes_of(runner, edition=YEAR, voter=VOTER) == [cast]
    assert (cast.cast_at, cast.voter) == (NOW, VOTER)


async def test_the_vote_event_is_pseudonymous_keyed_by_category_and_its_id_is_stable(
    runner: FakeRunner,
) -> None:
    cast = await vote(runner)

    event = cast.event(KEY)
    again = cast.event(KEY)
    assert event.event_id == again.event_id, "published twice, one event id: the inbox drops one"
    assert event.payload == again.payload
    assert event.event_id == uuid.uuid5(
        uuid.UUID("6f1c2b9e-3d4a-5b6c-8d7e-9f0a1b2c3d4e"), cast.receipt_id
    )
    assert topic_of(event) == "wsis.votes.v1"
    assert tally_key(YEAR, Category.C4) == "2027:C4"
    assert event.payload.voter_pseudonym == voter_pseudonym(VOTER, YEAR, KEY)
    assert VOTER not in encode(event).decode(), "the voter's identity never leaves voting"


async def test_a_second_vote_in_the_category_gets_the_first_receipt(runner: FakeRunner) -> None:
    first = await vote(runner, "entry-1")

    with pytest.raises(AlreadyVoted) as refused:
        await vote(runner, "entry-2")

    assert (refused.value.status, refused.value.code) == (409, "already-voted")
    assert refused.value.extensions["receipt_id"] == first.receipt_id
    [kept] = await votes_of(runner, edition=YEAR, voter=VOTER)
    assert kept.entry_id == "entry-1"


async def test_a_retried_request_with_its_idempotency_key_gets_the_first_answer(
    runner: FakeRunner,
) -> None:
    first = await vote(runner, key="retry-1")

    again = await vote(runner, key="retry-1")
    assert again == first
    with pytest.raises(AlreadyVoted):
        await vote(runner, key="another-key")
    assert len(runner.state.votes) == 1


async def test_an_idempotency_key_sent_again_with_another_entry_is_invalid_input(
    runner: FakeRunner,
) -> None:
    await vote(runner, "entry-1", key="retry-2")

    with pytest.raises(InvalidInput, match="Idempotency-Key was sent with a vote for another"):
        await vote(runner, "entry-2", key="retry-2")
    [kept] = await votes_of(runner, edition=YEAR, voter=VOTER)
    assert kept.entry_id == "entry-1"


async def test_one_vote_in_each_category_and_for_each_voter(runner: FakeRunner) -> None:
    await vote(runner, "entry-1", Category.C4)
    await vote(runner, "entry-3", Category.C9)
    await vote(runner, "entry-1", Category.C4, voter="someone else")

    assert len(await votes_of(runner, edition=YEAR, voter=VOTER)) == 2
    assert len(runner.state.votes) == 3


@pytest.mark.parametrize("phase", [Phase.REVIEW, Phase.SELECTION, Phase.RESULTS])
async def test_no_vote_outside_the_window(runner: FakeRunner, phase: Phase) -> None:
    runner.state.editions[YEAR] = _edition(phase)

    with pytest.raises(PhaseClosed):
        await vote(runner)
    assert runner.state.votes == {}


async def test_the_clock_closes_the_window_even_before_the_phase_changes(
    runner: FakeRunner,
) -> None:
    closes = runner.state.editions[YEAR].schedule.voting_closes  # type: ignore[union-attr]
    late = int((closes - NOW).total_seconds() // 60)

    with pytest.raises(PhaseClosed, match="is closed"):
        await vote(runner, minutes=late)
    await vote(runner, minutes=late - 1)


@pytest.mark.parametrize("entry_id", ["no-such-entry", "entry-4", "entry-3"])
async def test_a_vote_for_a_non_nominee_of_the_category_is_422(
    runner: FakeRunner, entry_id: str
) -> None:
    with pytest.raises(InvalidInput):
        await vote(runner, entry_id, Category.C4)
    assert runner.state.votes == {}


# --- counting ------------------------------------------------------------------------------


async def test_a_redelivered_vote_event_does_not_change_the_tally(runner: FakeRunner) -> None:
    await vote(runner, "entry-2")
    await count_all(runner)
    await count_all(runner)  # the same events again: a redelivery, a re-published vote

    assert runner.state.tallies == {(YEAR, "C4", "entry-2"): 1}
    assert (await tally_audit.verify(runner, edition=YEAR)).ok


async def test_results_rank_by_counted_votes_and_hide_secret_counts(runner: FakeRunner) -> None:
    for voter in ("a", "b", "c"):
        await vote(runner, "entry-2", voter=voter)
    await vote(runner, "entry-1", voter="d")
    await count_all(runner)

    public = await results(runner, edition=YEAR, category=Category.C4, privileged=False)
    admin = await results(runner, edition=YEAR, category=Category.C4, privileged=True)

    assert {count for _, count in public.nominees} == {None}
    assert [(n.entry_id, c) for n, c in admin.nominees] == [("entry-2", 3), ("entry-1", 1)]


# --- ruling votes out ------------------------------------------------------------------------


async def test_a_rule_selecting_more_votes_than_one_ruling_takes_asks_to_narrow_it(
    runner: FakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(invalidation, "MAX_VOTES_PER_RULING", 2)
    for n in range(3):
        await vote(runner, "entry-2", voter=f"bot-{n}", ip=f"203.0.113.{n + 10}")
    rule = InvalidationRule(reason="bot farm seen in the logs", ip_range="203.0.113.0/24")

    for dry_run in (True, False):
        with pytest.raises(InvalidInput, match="narrow it") as refused:
            await invalidation.rule_out_votes(
                runner, year=YEAR, rule=rule, dry_run=dry_run, admin=ADMIN, now=NOW
            )
        assert refused.value.extensions["max_votes"] == 2
    assert not any(stored.vote.invalid for stored in runner.state.votes.values())


async def test_votes_ruled_out_by_address_range_stop_counting(runner: FakeRunner) -> None:
    for n in range(3):
        await vote(runner, "entry-2", voter=f"bot-{n}", ip=f"203.0.113.{n + 10}")
    await vote(runner, "entry-1", voter="human", ip="198.51.100.7")
    await count_all(runner)
    late_bot = await vote(runner, "entry-2", voter="bot-late", ip="203.0.113.99")

    rule = InvalidationRule(reason="bot farm seen in the logs", ip_range="203.0.113.0/24")
    preview = await invalidation.rule_out_votes(
        runner, year=YEAR, rule=rule, dry_run=True, admin=ADMIN, now=NOW
    )
    assert preview.votes_ruled_out == 4
    assert runner.state.tallies[(YEAR, "C4", "entry-2")] == 3, "a dry run changes nothing"

    done = await invalidation.rule_out_votes(
        runner, year=YEAR, rule=rule, dry_run=False, admin=ADMIN, now=NOW
    )
    await count_all(runner)  # the late bot's event arrives after the ruling

    assert done.votes_ruled_out == 4
    [(ruling, key)] = [(e, k) for e, k in runner.published if isinstance(e, VotesRuledOut)]
    assert key == "2027:C4"
    assert ruling.payload.votes_by_entry == {"entry-2": 4}, "stocktaking takes them off"
    assert ruling.payload.reason == "bot farm seen in the logs"
    assert runner.state.tallies[(YEAR, "C4", "entry-2")] == 0
    assert runner.state.tallies[(YEAR, "C4", "entry-1")] == 1
    assert runner.state.votes[late_bot.receipt_id].counted is False
    assert (await tally_audit.verify(runner, edition=YEAR)).ok
    assert [i.rule.reason for i in await invalidation.invalidations(runner, year=YEAR)] == [
        "bot farm seen in the logs"
    ]


def test_a_rule_must_select_something_and_name_a_real_range() -> None:
    with pytest.raises(ValidationError, match="would rule out every vote"):
        InvalidationRule(reason="no criterion at all")
    with pytest.raises(ValidationError, match="address range"):
        InvalidationRule(reason="a typo", ip_range="203.0.113/99")


@pytest.mark.parametrize(
    "window",
    [
        {"cast_from": "0001-01-01T00:00:00+05:00"},  # before year 1 in UTC: MongoDB cannot compare
        {"cast_until": "9999-12-31T23:59:59-05:00"},
        {"cast_from": "1999-12-31T00:00:00Z"},
    ],
)
def test_a_rules_time_window_is_within_the_years_votes_have(window: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="votes are cast between 2000 and 2100"):
        InvalidationRule.model_validate({"reason": "an extreme window"} | window)


# --- the close of the window -----------------------------------------------------------------


def test_ties_go_to_the_nominee_that_reached_its_count_first() -> None:
    at = NOW
    counts = [
        NomineeCount("late", 10, at + timedelta(hours=5)),
        NomineeCount("early", 10, at + timedelta(hours=1)),
        NomineeCount("top", 12, at + timedelta(hours=9)),
        NomineeCount("b-none", 0, None),
        NomineeCount("a-none", 0, None),
        NomineeCount("mid", 7, at),
        NomineeCount("same-time-b", 3, at),
        NomineeCount("same-time-a", 3, at),
    ]

    salt = "5a1t"
    by_lot = sorted(
        ["same-time-a", "same-time-b"],
        key=lambda e: hashlib.sha256(f"{salt}:{e}".encode()).hexdigest(),
    )
    none_by_lot = sorted(["a-none", "b-none"], key=lambda e: draw(salt, e))
    assert [c.entry_id for c in rank(counts, salt)] == [
        "top",
        "early",
        "late",
        "mid",
        *by_lot,
        *none_by_lot,
    ]
    chosen = finalists(counts, salt)
    assert [(f.entry_id, f.rank) for f in chosen] == [
        ("top", 1),
        ("early", 2),
        ("late", 3),
        ("mid", 4),
        (by_lot[0], 5),
    ], "a tie at the fifth place: exactly five finalists"


def test_the_last_tie_break_is_a_draw_by_the_bulletin_salt_not_the_entry_id() -> None:
    """Entry ids follow creation time: ranking by them would hand every zero-vote tie to the
    oldest draft. The draw depends on the salt, drawn at the close."""
    tied = [NomineeCount(f"entry-{n}", 0, None) for n in range(6)]
    winners_of_the_draw = {finalists(tied, f"salt-{n}")[0].entry_id for n in range(40)}

    assert len(winners_of_the_draw) > 1
    assert finalists(tied, "salt-1") == finalists(list(reversed(tied)), "salt-1")


async def test_a_retry_after_the_close_gets_the_vote_accepted_before_it(
    runner: FakeRunner,
) -> None:
    first = await vote(runner, "entry-1", key="k-1")
    runner.state.editions[YEAR].phase = Phase.SELECTION

    assert await vote(runner, "entry-1", key="k-1", minutes=1) == first
    with pytest.raises(PhaseClosed):
        await vote(runner, "entry-1", minutes=1)  # no key: nothing tells it is a retry
    with pytest.raises(PhaseClosed):
        await vote(runner, "entry-1", key="k-2", minutes=1)
    with pytest.raises(InvalidInput, match="another entry"):
        await vote(runner, "entry-2", key="k-1", minutes=1)


def _phase_change(phase: Phase) -> PhaseChange:
    return PhaseChange(
        year=YEAR,
        phase=phase,
        previous_phase=Phase.VOTING,
        changed_by="admin",
        schedule=runner_schedule(),
    )


def runner_schedule() -> EditionSchedule:
    schedule = _edition().schedule
    assert schedule is not None
    return schedule


async def test_a_phase_event_older_than_the_one_applied_changes_nothing(
    runner: FakeRunner,
) -> None:
    async def record(phase: Phase, version: int) -> None:
        async def work(uow: UnitOfWork) -> None:
            change = _phase_change(phase)
            await record_phase(uow, change, version=version, changed_at=NOW, now=NOW)

        await runner.run(work)

    await record(Phase.SELECTION, version=5)
    await record(Phase.VOTING, version=4)  # replayed from the dead letters, say
    await record(Phase.VOTING, version=5)  # redelivered

    assert runner.state.editions[YEAR].phase == Phase.SELECTION
    await record(Phase.RESULTS, version=6)
    assert runner.state.editions[YEAR].phase == Phase.RESULTS


async def test_a_phase_event_carries_the_running_counts_setting_it_was_published_with(
    runner: FakeRunner,
) -> None:
    """An `edition.changed` hiding the counts lost to the dead letters: the next phase change
    brings the setting all the same (older events, without it, leave it as it is)."""
    runner.state.editions[YEAR].show_running_counts = True

    async def record(change: PhaseChange, version: int) -> None:
        async def work(uow: UnitOfWork) -> None:
            await record_phase(uow, change, version=version, changed_at=NOW, now=NOW)

        await runner.run(work)

    await record(_phase_change(Phase.SELECTION), version=3)
    assert runner.state.editions[YEAR].show_running_counts, "an event without the setting"
    hidden = _phase_change(Phase.RESULTS).model_copy(update={"show_running_counts": False})
    await record(hidden, version=5)
    assert not runner.state.editions[YEAR].show_running_counts


async def test_voting_extended_by_an_admin_takes_votes_until_its_new_close(
    runner: FakeRunner,
) -> None:
    old_close = runner_schedule().voting_closes
    new_close = old_close + timedelta(days=2)

    async def apply(schedule: EditionSchedule, version: int) -> None:
        change = EditionChange(
            year=YEAR,
            title="WSIS Prizes 2027",
            schedule=schedule,
            categories=tuple(Category),
            show_running_counts=True,
            changed=("schedule", "show_running_counts"),
        )

        async def work(uow: UnitOfWork) -> None:
            await record_edition(uow, change, version)

        await runner.run(work)

    await apply(runner_schedule().model_copy(update={"voting_closes": new_close}), version=3)
    await apply(runner_schedule(), version=2)  # an older change, replayed: changes nothing

    edition = runner.state.editions[YEAR]
    assert edition.schedule is not None
    assert edition.schedule.voting_closes == new_close
    assert edition.show_running_counts
    after_the_old_close = int((old_close - NOW).total_seconds() // 60) + 60
    accepted = await vote(runner, "entry-1", minutes=after_the_old_close)
    assert accepted.entry_id == "entry-1"
    with pytest.raises(PhaseClosed, match="is closed"):
        await vote(runner, "entry-3", Category.C9, minutes=after_the_old_close + 2 * 24 * 60)


async def test_results_wait_the_grace_from_when_voting_learnt_of_the_close(
    runner: FakeRunner,
) -> None:
    """A close handled a minute late (a consumer's lag) still leaves the votes in flight their
    grace period."""
    await vote(runner, "entry-1")
    learnt = NOW + timedelta(minutes=1)

    async def work(uow: UnitOfWork) -> None:
        change = _phase_change(Phase.SELECTION)
        await record_phase(uow, change, version=9, changed_at=NOW, now=learnt)

    await runner.run(work)

    assert await closing.finalise_closed_windows(runner, [YEAR], learnt + timedelta(seconds=1)) == 0
    assert await closing.finalise_closed_windows(runner, [YEAR], learnt + timedelta(seconds=6)) == 2


async def _close(runner: FakeRunner, after: timedelta = timedelta(seconds=10)) -> int:
    edition = runner.state.editions[YEAR]
    edition.phase = Phase.SELECTION
    edition.phase_changed_at = NOW
    return await closing.finalise_closed_windows(runner, [YEAR], NOW + after)


async def test_the_close_announces_the_finalists_once(runner: FakeRunner) -> None:
    for n, entry in enumerate(["entry-2", "entry-2", "entry-1"]):
        await vote(runner, entry, voter=f"v{n}", minutes=n)
    await vote(runner, "entry-3", Category.C9, voter="v9")

    assert await _close(runner, after=timedelta(seconds=1)) == 0, "waits out the grace period"
    assert await _close(runner) == 2
    assert await _close(runner) == 0, "once"

    events = [e for e, _ in runner.published if isinstance(e, ChampionsAnnounced)]
    assert len(events) == len(runner.published)
    by_category = {e.payload.category: e for e in events}
    c4 = by_category[Category.C4].payload
    assert [(f.entry_id, f.votes) for f in c4.finalists] == [("entry-2", 2), ("entry-1", 1)]
    assert [key for _, key in runner.published] == ["2027:C4", "2027:C9"]
    with pytest.raises(Conflict, match="were decided"):
        await invalidation.rule_out_votes(
            runner,
            year=YEAR,
            rule=InvalidationRule(reason="too late now", voters=("v0",)),
            dry_run=False,
            admin=ADMIN,
            now=NOW,
        )


async def test_the_bulletin_lets_each_voter_find_their_receipt(runner: FakeRunner) -> None:
    cast = [await vote(runner, "entry-2", voter=f"v{n}") for n in range(3)]
    mine = await vote(runner, "entry-1", voter="me")
    await _close(runner)

    found = await closing.bulletin(runner, year=YEAR, category=Category.C4, privileged=True)
    assert found is not None
    results_, hashes, _ = found
    assert {entry: len(h) for entry, h in hashes.items()} == {"entry-1": 1, "entry-2": 3}
    my_hash = hashlib.sha256(f"{results_.bulletin_salt}:{mine.receipt_id}".encode()).hexdigest()
    assert hashes["entry-1"] == [my_hash]
    assert all(c.receipt_id not in str(hashes) for c in cast), "receipts are never shown"


async def test_votes_for_a_nomination_withdrawn_during_the_window_stay_in_the_bulletin(
    runner: FakeRunner,
) -> None:
    """The champions' figure and the bulletin agree: anyone adding up the bulletin gets
    `valid_votes`, and the voters of a withdrawn nomination still find their receipts."""
    for n in range(3):
        await vote(runner, "entry-2", voter=f"v{n}")
    mine = await vote(runner, "entry-1", voter="me")
    runner.state.nominees["entry-1"] = runner.state.nominees["entry-1"].model_copy(
        update={"nominated": False}
    )
    await _close(runner)

    _, decided = await closing.champions(runner, year=YEAR, privileged=True)
    (c4,) = [r for r in decided if r.category == "C4"]
    assert [f.entry_id for f in c4.finalists] == ["entry-2"], "withdrawn: no finalist"
    assert (c4.valid_votes, c4.votes_for_withdrawn, c4.withdrawn) == (4, 1, ("entry-1",))
    found = await closing.bulletin(runner, year=YEAR, category=Category.C4, privileged=True)
    assert found is not None
    results_, hashes, _ = found
    assert sum(len(h) for h in hashes.values()) == c4.valid_votes
    my_hash = hashlib.sha256(f"{results_.bulletin_salt}:{mine.receipt_id}".encode()).hexdigest()
    assert hashes["entry-1"] == [my_hash]


async def test_rebuild_repairs_a_damaged_tally(runner: FakeRunner) -> None:
    for n in range(3):
        await vote(runner, "entry-2", voter=f"v{n}")
    await count_all(runner)
    runner.state.tallies[(YEAR, "C4", "entry-2")] = 99

    broken = await tally_audit.verify(runner, edition=YEAR)
    assert broken.differences == {(YEAR, "C4", "entry-2"): (99, 3)}
    repaired = await tally_audit.rebuild(runner, edition=YEAR)
    assert repaired.ok
    assert runner.state.tallies[(YEAR, "C4", "entry-2")] == 3


def test_a_vote_for_an_entry_id_that_is_not_unicode_is_invalid_input() -> None:
    with pytest.raises(ValidationError):
        # As FastAPI reads a body: Python's json accepts a lone surrogate, MongoDB cannot store it.
        VoteCreate.model_validate(json.loads('{"category": "C4", "entry_id": "c4-\\ud800"}'))
