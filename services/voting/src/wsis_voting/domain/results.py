"""The end of the window: finalists with a written tie rule, and the bulletin of hashed receipts
anyone can check.

Tie rule at any place, the fifth included: more valid votes rank higher; on equal votes, the
nominee that reached its final count first — whose last valid vote was cast earlier — ranks
higher (its supporters got there first; a late equaliser does not overtake); if that is equal
too, or no vote was cast, the lower entry id ranks higher (arbitrary but fixed and public).
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
    "earlier (it reached its final count first); then the lower entry id"
)


@dataclass(frozen=True)
class NomineeCount:
    entry_id: str
    votes: int
    last_vote_at: datetime | None


def rank(counts: list[NomineeCount]) -> list[NomineeCount]:
    def key(count: NomineeCount) -> tuple[int, float, str]:
        reached = count.last_vote_at.timestamp() if count.last_vote_at else float("inf")
        return (-count.votes, reached, count.entry_id)

    return sorted(counts, key=key)


def finalists(counts: list[NomineeCount]) -> tuple[Finalist, ...]:
    return tuple(
        Finalist(entry_id=count.entry_id, votes=count.votes, rank=position)
        for position, count in enumerate(rank(counts)[:FINALISTS_PER_CATEGORY], start=1)
    )


def receipt_hash(salt: str, receipt_id: str) -> str:
    return hashlib.sha256(f"{salt}:{receipt_id}".encode()).hexdigest()
