"""The correlation and causation ids of the unit of work in progress.

Bound per HTTP request (from `X-Correlation-ID`, or new) and per consumed event (its own
correlation id, and its event id as the cause). Events created meanwhile take them as defaults,
so a chain of events across services shares one correlation id without passing it by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from uuid import UUID, uuid4

import structlog

_correlation_id: ContextVar[UUID | None] = ContextVar("correlation_id", default=None)
_causation_id: ContextVar[UUID | None] = ContextVar("causation_id", default=None)


def correlation_id() -> UUID:
    return _correlation_id.get() or uuid4()


def causation_id() -> UUID | None:
    return _causation_id.get()


@contextmanager
def bound(correlation: UUID, causation: UUID | None = None) -> Iterator[None]:
    tokens = (_correlation_id.set(correlation), _causation_id.set(causation))
    try:
        with structlog.contextvars.bound_contextvars(correlation_id=str(correlation)):
            yield
    finally:
        _correlation_id.reset(tokens[0])
        _causation_id.reset(tokens[1])
