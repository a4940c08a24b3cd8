"""The end of the window: finalists with a written tie rule, and the bulletin of hashed receipts
anyone can check.

Tie rule at any place, the fifth included: more valid votes rank higher; on equal votes, the
nominee that reached its final count first — whose last valid vote was cast earlier — ranks
higher (its supporters got there first; a late equaliser does not overtake); if that is equal
too, or no vote was cast, a draw decides: the lower SHA-256 of `salt:entry_id` ranks higher,
with the category's bulletin salt — random, drawn at the close and published with the
bulletin, so nobody can arrange to win the draw before and anyone can recompute it after. (Not
the entry id itself: entry ids follow their creation time, and the oldest draft would win.)
Exactly five finalists per category (fewer only if fewer were nominated).

Bulletin: per category a random salt, published with the bulletin, and for each nominee the
sorted SHA-256 hashes of `salt:receipt_id` of its valid votes. The count of a nominee equals the
length of its list, which anyone can check; a voter recomputes the hash of their own receipt and
finds it in their nominee's list. Receipts are random and secret to their voter, so the list
reveals neither who voted nor a receipt someone else could claim.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from wsis_shared.events import Finalist

FINALISTS_PER_CATEGORY: Final = 5
TIE_BREAK_RULE: Final = (
    "more valid votes first; on equal votes, the nominee whose last valid vote was cast "
    "earlier (it reached its final count first); then by lot: the lower SHA-256 of "
    "`salt:entry_id`, the salt being the category's bulletin salt, drawn at the close"
)


@dataclass(frozen=True)
class NomineeCount:
    entry_id: str
    votes: int
    last_vote_at: datetime | None


def draw(salt: str, entry_id: str) -> str:
    """A nominee's lot in the last tie-break: the lower ranks higher."""
    return hashlib.sha256(f"{salt}:{entry_id}".encode()).hexdigest()


def rank(counts: list[NomineeCount], salt: str) -> list[NomineeCount]:
    def key(count: NomineeCount) -> tuple[int, float, str]:
        reached = count.last_vote_at.timestamp() if count.last_vote_at else float("inf")
        return (-count.votes, reached, draw(salt, count.entry_id))

    return sorted(counts, key=key)


def finalists(counts: list[NomineeCount], salt: str) -> tuple[Finalist, ...]:
    return tuple(
        Finalist(entry_id=count.entry_id, votes=count.votes, rank=position)
        for position, count in enumerate(rank(counts, salt)[:FINALISTS_PER_CATEGORY], start=1)
    )


def receipt_hash(salt: str, receipt_id: str) -> str:
    return hashlib.sha256(f"{salt}:{receipt_id}".encode()).hexdigest()
