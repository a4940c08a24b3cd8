"""Typed errors that every layer may raise, and their RFC 9457 problem+json rendering.

Domain and service-layer code raises these; the web layer maps them to responses, so a use case
never needs to know about HTTP and a person always gets a reason they can act on.
"""

from __future__ import annotations

from typing import Any, ClassVar


class WsisError(Exception):
    """Base of every error a client can cause: always rendered as a 4xx problem."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(WsisError):
    status = 422
    code = "invalid-input"
    title = "The request is not valid"


class Unauthenticated(WsisError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(WsisError):
    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(WsisError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(WsisError):
    status = 409
    code = "conflict"
    title = "Conflict with the current state"


class PhaseClosed(Conflict):
    """A request arrived outside the edition phase that allows it."""

    code = "phase-closed"
    title = "Not possible in the current phase"


class AlreadyExists(Conflict):
    code = "already-exists"
    title = "Already exists"


class PreconditionFailed(WsisError):
    """The resource changed since the client read it (its `If-Match` no longer matches)."""

    status = 412
    code = "changed-meanwhile"
    title = "Changed since you read it"


class PayloadTooLarge(WsisError):
    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class TooManyRequests(WsisError):
    """A rate limit was reached; `retry_after_s` says when to try again (a service that raises
    it also sends it as the `Retry-After` header)."""

    status = 429
    code = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int, **extensions: Any) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extensions)
        self.retry_after_s = retry_after_s
