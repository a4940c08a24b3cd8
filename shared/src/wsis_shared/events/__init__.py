"""Every event of the platform, the topics that carry them, and their wire encoding."""

from wsis_shared.events.editions import (
    EditionCreated,
    EditionPayload,
    EditionPhaseChanged,
    EditionSchedule,
    PhaseChange,
)
from wsis_shared.events.envelope import EventBase, Frozen, utcnow
from wsis_shared.events.registry import (
    TOPICS,
    AnyEvent,
    TopicSpec,
    UndecodableEvent,
    decode,
    encode,
    event_type_of,
    topic_of,
    upcast,
    upcaster,
)
from wsis_shared.events.review import (
    NominationDecided,
    NominationDecision,
    NomineeCard,
    WinnerSelected,
    WinnerSelection,
)
from wsis_shared.events.stocktaking import PublishedReport, ReportPublished
from wsis_shared.events.submissions import (
    EntryPublic,
    SubmissionAmended,
    SubmissionSubmitted,
    SubmissionWithdrawn,
    Withdrawal,
)
from wsis_shared.events.voting import (
    CastVote,
    ChampionsAnnounced,
    ChampionsList,
    Finalist,
    VoteCast,
)

__all__ = [
    "TOPICS",
    "AnyEvent",
    "CastVote",
    "ChampionsAnnounced",
    "ChampionsList",
    "EditionCreated",
    "EditionPayload",
    "EditionPhaseChanged",
    "EditionSchedule",
    "EntryPublic",
    "EventBase",
    "Finalist",
    "Frozen",
    "NominationDecided",
    "NominationDecision",
    "NomineeCard",
    "PhaseChange",
    "PublishedReport",
    "ReportPublished",
    "SubmissionAmended",
    "SubmissionSubmitted",
    "SubmissionWithdrawn",
    "TopicSpec",
    "UndecodableEvent",
    "VoteCast",
    "WinnerSelected",
    "WinnerSelection",
    "Withdrawal",
    "decode",
    "encode",
    "event_type_of",
    "topic_of",
    "upcast",
    "upcaster",
    "utcnow",
]
