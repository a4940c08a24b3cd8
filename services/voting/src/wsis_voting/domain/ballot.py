"""The ballot, the voting window and the rule of one vote per voter per category."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from wsis_shared.errors import AlreadyExists, InvalidInput, NotFound, PhaseClosed
from wsis_shared.events import CastVote, EditionSchedule, Finalist, NomineeCard, VoteCast
from wsis_shared.vocabulary import Category, Phase, vote_counts_public

# At the scheduled opening the phase change takes a few seconds to arrive (the scheduler's pass,
# the event): within this, a closed window is "opening", not "paused".
OPENING_LAG: Final = timedelta(minutes=1)


class AlreadyVoted(AlreadyExists):
    code = "already-voted"
    title = "Already voted in this category"


class VotingEdition(BaseModel):
    """An edition as voting knows it from the editions topic."""

    year: int
    phase: Phase = Phase.PLANNED
    schedule: EditionSchedule | None = None
    categories: tuple[Category, ...] = ()
    show_running_counts: bool = False
    # The edition event applied last (its aggregate version): an older one arriving late — a
    # redelivery, a replay from the dead letters — changes nothing.
    version: int = 0
    phase_changed_at: datetime | None = None  # when the submissions service changed it
    phase_recorded_at: datetime | None = None  # when this service learnt of it
    finalised_at: datetime | None = None
    # Once the results are decided no ruling needs the voters' addresses: they are erased.
    addresses_erased_at: datetime | None = None

    @property
    def known(self) -> bool:
        """Heard of from the editions topic (an unknown year reads as a blank edition)."""
        return self.version > 0 or self.schedule is not None

    @property
    def window_closed(self) -> bool:
        return self.phase.order > Phase.VOTING.order

    def applies(self, aggregate_version: int) -> bool:
        return aggregate_version > self.version

    def require_open_window(self, now: datetime | None = None) -> None:
        """Open while the edition is in its voting phase and, when a closing time is set, not
        past it: the clock closes the window to the second even before the phase event
        arrives — unless an admin opened voting again after that time (within the seconds
        before the results are decided): then the window stays open until the admin's next
        change. Never again once the results are decided: they were computed from the votes of
        that moment."""
        if not self.known:
            raise NotFound(f"no edition {self.year} is known to public voting")
        reopened_after_close = (
            self.schedule is not None
            and self.phase_changed_at is not None
            and self.phase_changed_at >= self.schedule.voting_closes
        )
        past_closing = (
            now is not None
            and self.schedule is not None
            and now >= self.schedule.voting_closes
            and not reopened_after_close
        )
        if self.phase == Phase.VOTING and not past_closing and self.finalised_at is None:
            return
        window = {}
        if self.schedule is not None:
            window = {
                "opens_at": self.schedule.voting_opens,
                "closes_at": self.schedule.voting_closes,
            }
        raise PhaseClosed(
            f"public voting for edition {self.year} {self._why_closed(now, past_closing)}",
            current_phase=self.phase,
            required_phase=Phase.VOTING,
            **window,
        )

    def _why_closed(self, now: datetime | None, past_closing: bool) -> str:
        if self.finalised_at is not None:
            return (
                f"is closed: its results were decided on {self.finalised_at:%Y-%m-%d %H:%M} UTC "
                "from the votes cast until then, and voting cannot open again"
            )
        schedule = self.schedule
        if schedule is None:
            return "is closed" if self.window_closed else "has not opened yet"
        window = f"{schedule.voting_opens.isoformat()} – {schedule.voting_closes.isoformat()}"
        if past_closing or (self.window_closed and (now is None or now >= schedule.voting_closes)):
            return f"is closed (scheduled {window})"
        if self.window_closed:
            changed = self.phase_changed_at
            on = f" on {changed:%Y-%m-%d %H:%M} UTC" if changed else ""
            return f"was closed early by the organisers{on} (scheduled {window})"
        if now is not None and now >= schedule.voting_opens:
            changed = self.phase_changed_at
            if (
                changed is not None
                and changed < schedule.voting_opens
                and now < schedule.voting_opens + OPENING_LAG
            ):
                # The schedule opens it; the phase change is on its way (the scheduler's pass).
                return f"is opening now (scheduled {window}): try again in a few seconds"
            return f"is paused by the organisers (scheduled {window})"
        return (
            f"has not opened yet (opens {schedule.voting_opens.isoformat()}, closes "
            f"{schedule.voting_closes.isoformat()})"
        )

    def counts_are_public(self) -> bool:
        return vote_counts_public(self.phase, self.show_running_counts)

    def counts_shown_to(self, privileged: bool) -> bool:
        """Whether a reader sees vote counts — in the results, the champions and the bulletin
        alike: admins always, the public when the counts are public."""
        return privileged or self.counts_are_public()


class Nominee(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    card: NomineeCard
    edition: int
    nominated: bool

    @property
    def entry_id(self) -> str:
        return self.card.entry_id


# vote.cast event ids derive from the receipt: however often the vote relay publishes a vote
# (after a crash, from a catch-up scan), the tally's inbox sees one event id.
VOTE_EVENT_NAMESPACE: Final = uuid.UUID("6f1c2b9e-3d4a-5b6c-8d7e-9f0a1b2c3d4e")


class Vote(BaseModel):
    """One voter's vote in one category; (edition, category, voter) is unique."""

    receipt_id: str
    edition: int
    category: Category
    entry_id: str
    voter: str
    cast_at: datetime
    ip: str | None = (
        None  # for ruling out bot farms by address range; erased once results are decided
    )
    idempotency_key: str | None = None
    invalid: bool = False
    invalidation_id: str | None = None

    def event(self, pseudonym_key: bytes) -> VoteCast:
        return VoteCast(
            event_id=uuid.uuid5(VOTE_EVENT_NAMESPACE, self.receipt_id),
            occurred_at=self.cast_at,
            aggregate_id=self.receipt_id,
            aggregate_version=1,
            edition=self.edition,
            payload=CastVote(
                receipt_id=self.receipt_id,
                category=self.category,
                entry_id=self.entry_id,
                voter_pseudonym=voter_pseudonym(self.voter, self.edition, pseudonym_key),
            ),
        )


def tally_key(edition: int, category: Category) -> str:
    """Kafka key of vote events: one partition, so one consumer, owns a category's tally."""
    return f"{edition}:{category}"


def voter_pseudonym(voter: str, edition: int, key: bytes) -> str:
    """A per-edition pseudonym of the voter, keyed: without the key, knowing a voter's account
    does not tell which vote on `wsis.votes.v1` is theirs."""
    return hmac.new(key, f"{edition}:{voter}".encode(), hashlib.sha256).hexdigest()[:32]


def check_ballot_choice(
    nominee: Nominee | None, edition: int, category: Category, entry_id: str
) -> Nominee:
    if (
        nominee is None
        or not nominee.nominated
        or nominee.edition != edition
        or nominee.card.category != category
    ):
        raise InvalidInput(
            f"entry {entry_id} is not a nominee in category {category}: pick one from the ballot",
            category=category,
            entry_id=entry_id,
        )
    return nominee


class CategoryResults(BaseModel):
    """What the window's close decided for one category: its finalists, and the salt of its
    bulletin of hashed receipts."""

    edition: int
    category: Category
    finalists: tuple[Finalist, ...]
    tie_break_rule: str
    bulletin_salt: str
    valid_votes: int = Field(description="every valid vote of the category, as in its bulletin")
    # Nominations withdrawn during the window: their votes stay valid and listed in the
    # bulletin (their voters find their receipts there) but they cannot be finalists.
    withdrawn: tuple[str, ...] = ()
    votes_for_withdrawn: int = 0
    decided_at: datetime

    @property
    def key(self) -> str:
        return f"{self.edition}:{self.category}"
