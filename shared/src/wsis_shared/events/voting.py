"""Events of `wsis.votes.v1` (one per accepted vote) and `wsis.voting.v1` (results)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from wsis_shared.events.envelope import EventBase, Frozen
from wsis_shared.vocabulary import Category


class CastVote(Frozen):
    """An accepted vote. The voter is a pseudonym: no address or name ever leaves voting."""

    receipt_id: str
    category: Category
    entry_id: str
    voter_pseudonym: str


class VoteCast(EventBase):
    event_type: Literal["vote.cast"] = "vote.cast"
    payload: CastVote


class RuledOutVotes(Frozen):
    """Votes of one category an admin ruled invalid: consumers that count `vote.cast` take
    these off (whatever the order in which both reach them, the sum is right)."""

    category: Category
    invalidation_id: str
    reason: str
    votes_by_entry: dict[str, int]


class VotesRuledOut(EventBase):
    event_type: Literal["votes.ruled_out"] = "votes.ruled_out"
    payload: RuledOutVotes


class Finalist(Frozen):
    entry_id: str
    votes: int = Field(ge=0)
    rank: int = Field(ge=1)


class ChampionsList(Frozen):
    category: Category
    finalists: tuple[Finalist, ...]
    tie_break_rule: str


class ChampionsAnnounced(EventBase):
    event_type: Literal["champions.announced"] = "champions.announced"
    payload: ChampionsList
