"""Reliable messaging: transactional outbox, relay, idempotent consumers, dead letters."""

from wsis_shared.messaging.consumer import INBOX_INDEXES, ConsumerRunner, Handlers, Tx
from wsis_shared.messaging.dlq import DeadLetter, list_dead_letters, replay_dead_letters
from wsis_shared.messaging.kafka import broker_reachable, ensure_topics, idempotent_producer
from wsis_shared.messaging.outbox import OUTBOX_INDEXES, Outbox
from wsis_shared.messaging.relay import OutboxRelay

__all__ = [
    "INBOX_INDEXES",
    "OUTBOX_INDEXES",
    "ConsumerRunner",
    "DeadLetter",
    "Handlers",
    "Outbox",
    "OutboxRelay",
    "Tx",
    "broker_reachable",
    "ensure_topics",
    "idempotent_producer",
    "list_dead_letters",
    "replay_dead_letters",
]
