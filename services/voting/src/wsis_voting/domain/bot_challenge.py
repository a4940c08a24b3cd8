"""A pluggable check that a request comes from a person's browser rather than a script farm.

`BotChallenge` is the interface; `NoBotChallenge` (the default: off) lets everything through and
`ProofOfWork` is the one real implementation, hashcash-style:

1. `GET /voters/bot-challenge` hands out a challenge the server signed (HMAC) with its
   difficulty and expiry in it: `pow1.<difficulty>.<expires unix>.<random id>.<mac>`.
2. The client finds a nonce such that `sha256("<challenge>:<nonce>")` starts with `difficulty`
   zero bits (2^difficulty hashes on average: about 0.1–0.5 s of a browser's time at 18 bits,
   negligible for one person, a real cost for a farm sending thousands of requests).
3. It sends `X-Bot-Proof: <challenge>:<nonce>`. The server checks the MAC, the expiry and the
   hash: one HMAC and one SHA-256, O(1), no storage read; then records the challenge's id as
   spent (until its expiry) so the same proof is refused the second time.

Stateless issuing means any replica can check a challenge another one handed out, as long as all
share the key (derived from `WSIS_VOTING_VOTER_HASH_KEY`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from pydantic import BaseModel, ConfigDict

from wsis_shared.errors import WsisError

PROOF_HEADER: Final = "X-Bot-Proof"
_VERSION: Final = "pow1"
_NONCE: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_PROOF_LENGTH: Final = 256


class BotCheckRequired(WsisError):
    status = 428
    code = "bot-check-required"
    title = "Proof of work required"


class BotCheckFailed(WsisError):
    status = 403
    code = "bot-check-failed"
    title = "The proof of work was refused"


class ChallengeOffer(BaseModel):
    """What a client needs to solve a challenge."""

    model_config = ConfigDict(frozen=True)

    kind: str
    challenge: str
    difficulty: int
    expires_at: datetime
    header: str = PROOF_HEADER
    how: str = (
        "find a nonce of 1-64 characters [A-Za-z0-9_-] such that the SHA-256 of "
        "'<challenge>:<nonce>' (UTF-8) starts with `difficulty` zero bits, then send the header "
        "'X-Bot-Proof: <challenge>:<nonce>' with the request; each challenge works once"
    )


class SpentChallenges(Protocol):
    async def spend(self, challenge_id: str, expires_at: datetime) -> bool:
        """Record the challenge as used until it expires; False if it was used already."""


class BotChallenge(Protocol):
    """A bot check: what to offer a client, and how to check what it sends back."""

    @property
    def enabled(self) -> bool: ...

    def offer(self, now: datetime) -> ChallengeOffer | None: ...

    async def check(self, proof: str | None, *, now: datetime, spent: SpentChallenges) -> None:
        """Return if the request may pass; raise `BotCheckRequired` or `BotCheckFailed`."""


class NoBotChallenge:
    """The check switched off: every request passes."""

    enabled = False

    def offer(self, now: datetime) -> ChallengeOffer | None:
        return None

    async def check(self, proof: str | None, *, now: datetime, spent: SpentChallenges) -> None:
        return None


class VerifiedProof(BaseModel):
    model_config = ConfigDict(frozen=True)

    challenge_id: str
    expires_at: datetime


class ProofOfWork:
    kind: Final = "proof-of-work"
    enabled = True

    def __init__(self, key: bytes, *, difficulty: int, ttl: timedelta) -> None:
        if not 1 <= difficulty <= 40:
            raise ValueError("a proof-of-work difficulty is between 1 and 40 bits")
        self._key = key
        self.difficulty = difficulty
        self.ttl = ttl

    def offer(self, now: datetime) -> ChallengeOffer:
        expires = int((now + self.ttl).timestamp())
        challenge_id = _b64(secrets.token_bytes(16))
        body = f"{_VERSION}.{self.difficulty}.{expires}.{challenge_id}"
        return ChallengeOffer(
            kind=self.kind,
            challenge=f"{body}.{self._mac(body)}",
            difficulty=self.difficulty,
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def verify(self, proof: str, now: datetime) -> VerifiedProof:
        """The pure check: signature, expiry, difficulty and the hash. O(1)."""
        if len(proof) > _MAX_PROOF_LENGTH:
            raise BotCheckFailed("the proof is too long: send '<challenge>:<nonce>'")
        challenge, colon, nonce = proof.rpartition(":")
        parts = challenge.split(".")
        if not colon or len(parts) != 5 or parts[0] != _VERSION or not _NONCE.match(nonce):
            raise BotCheckFailed(
                f"the {PROOF_HEADER} header is malformed: send '<challenge>:<nonce>'"
            )
        _, difficulty_text, expires_text, challenge_id, mac = parts
        body = ".".join(parts[:4])
        if not hmac.compare_digest(mac.encode(errors="replace"), self._mac(body).encode()):
            raise BotCheckFailed(
                "this challenge was not issued here: fetch one at GET /voters/bot-challenge"
            )
        # Signed by us, so the two numbers are ours.
        difficulty, expires = int(difficulty_text), int(expires_text)
        if now.timestamp() >= expires:
            raise BotCheckFailed("the challenge has expired: fetch a new one")
        if difficulty < self.difficulty:
            raise BotCheckFailed("the challenge is easier than required now: fetch a new one")
        if leading_zero_bits(_digest(challenge, nonce)) < difficulty:
            raise BotCheckFailed(
                f"the nonce does not solve the challenge: the hash needs {difficulty} leading "
                "zero bits"
            )
        return VerifiedProof(
            challenge_id=challenge_id, expires_at=datetime.fromtimestamp(expires, UTC)
        )

    async def check(self, proof: str | None, *, now: datetime, spent: SpentChallenges) -> None:
        if not proof:
            raise BotCheckRequired(
                f"this request needs a proof of work in the {PROOF_HEADER} header: fetch a "
                "challenge at GET /voters/bot-challenge and solve it"
            )
        verified = self.verify(proof.strip(), now)
        if not await spent.spend(verified.challenge_id, verified.expires_at):
            raise BotCheckFailed("this challenge was used already: fetch a new one")

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:16])


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solve(challenge: str, difficulty: int) -> str:
    """Find a nonce (what a client does; here for tests, demos and Python clients)."""
    for counter in itertools.count():
        nonce = format(counter, "x")
        if leading_zero_bits(_digest(challenge, nonce)) >= difficulty:
            return nonce
    raise AssertionError("unreachable")  # pragma: no cover


def _digest(challenge: str, nonce: str) -> bytes:
    return hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
