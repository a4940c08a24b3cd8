"""Casting a vote: the window, the ballot, one vote per voter per category, a receipt, and the
same answer to a retried request."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from wsis_shared.errors import InvalidInput, PhaseClosed
from wsis_shared.vocabulary import Category
from wsis_voting.domain.ballot import (
    AlreadyVoted,
    Nominee,
    Vote,
    VotingEdition,
    check_ballot_choice,
)


class AlreadyCast(Exception):
    """The store refused the vote: the voter has one in this category."""


class VoteStore(Protocol):
    async def edition(self, year: int) -> VotingEdition: ...
    async def nominee(self, entry_id: str) -> Nominee | None: ...
    async def add(self, vote: Vote) -> None:
        """Stores durably; raises `AlreadyCast` if (edition, category, voter) exists."""

    async def existing(self, edition: int, category: Category, voter: str) -> Vote | None: ...


async def cast_vote(
    store: VoteStore,
    *,
    edition: int,
    category: Category,
    entry_id: str,
    voter: str,
    now: datetime,
    ip: str | None = None,
    idempotency_key: str | None = None,
) -> Vote:
    """The accepted vote (a retried request with the same Idempotency-Key gets the first
    vote back); `AlreadyVoted` with the first receipt for a second vote in the category."""
    # MongoDB keeps milliseconds: the receipt must say exactly what is stored, so that a retry
    # (answered from the store) gets the very same answer.
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    try:
        (await store.edition(edition)).require_open_window(now)
    except PhaseClosed:
        # A retry of a vote accepted just before the close (its answer lost on the way) gets
        # that first answer, not "closed": the voter must not believe the vote was lost.
        first = await store.existing(edition, category, voter) if idempotency_key else None
        if first is None or first.idempotency_key != idempotency_key:
            raise
        if first.entry_id != entry_id:
            raise _key_reused() from None
        return first
    check_ballot_choice(await store.nominee(entry_id), edition, category, entry_id)
    vote = Vote(
        receipt_id=uuid.uuid4().hex,
        edition=edition,
        category=category,
        entry_id=entry_id,
        voter=voter,
        cast_at=now,
        ip=ip,
        idempotency_key=idempotency_key,
    )
    try:
        await store.add(vote)
        return vote
    except AlreadyCast:
        first = await store.existing(edition, category, voter)
        if first is not None and idempotency_key and first.idempotency_key == idempotency_key:
            if first.entry_id != entry_id:  # a retry repeats its request (IETF Idempotency-Key)
                raise _key_reused() from None
            return first
        raise AlreadyVoted(
            f"you already voted in category {category}: one vote per category",
            category=category,
            receipt_id=first.receipt_id if first else None,
        ) from None


def _key_reused() -> InvalidInput:
    return InvalidInput(
        "this Idempotency-Key was sent with a vote for another entry: a retry sends the same "
        "vote; a new vote needs a new key",
        errors=[{"pointer": "/entry_id", "detail": "not the entry of the first request"}],
    )
