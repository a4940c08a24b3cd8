"""Voters: a person proves an email address with a one-time code and gets a voter token.

Pure rules, no I/O:

- **One voter per mailbox.** An address is validated and split in two forms: the *delivery*
  address (as typed, trimmed; the code goes there) and the *canonical* one (what makes a voter
  unique): lower-cased, the `+tag` of plus-addressing dropped on every domain (a tag reaches the
  same mailbox with most providers, so it must not make a second voter), and for `gmail.com` /
  `googlemail.com` the dots of the local part dropped and the domain read as `gmail.com` (Gmail
  ignores them). Other providers' sub-address separators (`-` at some) are not folded: `-` is
  too common in real names.
- **Only keyed hashes are stored.** The canonical address is kept only as an HMAC-SHA256 under a
  secret (`WSIS_VOTING_VOTER_HASH_KEY`); a code only as an HMAC of the code and a fresh salt,
  compared in constant time. The plain delivery address is kept while a code is pending (for a
  resend) and erased with the pending registration: at verification or when its code expires.
- **Codes**: 6 digits, valid 10 minutes, 5 wrong attempts per code, then a new code is needed;
  a new code no sooner than a minute after the previous one, at most 5 codes per registration.
  A code works once: entered again (a form sent twice, a retried request) it is recognised as
  used — only its keyed hash is kept for that, until it would have expired — and the answer says
  so rather than "expired".
- **Voter tokens**: RS256, issued by the voting service itself (`iss` "wsis-voting"), the
  subject is the stable voter id (never the address), the role `voter` and nothing else.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict

from wsis_shared.auth import Principal, VerifiedTokens
from wsis_shared.errors import InvalidInput, TooManyRequests, Unauthenticated, WsisError
from wsis_shared.vocabulary import Role

CODE_DIGITS: Final = 6
CLOCK_SKEW: Final = timedelta(seconds=30)
VOTER_ROLE: Final = "voter"
_GMAIL_DOMAINS: Final = frozenset({"gmail.com", "googlemail.com"})
_MAX_ADDRESS_LENGTH: Final = 254  # RFC 5321's limit on a path, less the angle brackets


# --- errors a person can act on ------------------------------------------------------------------


class CodeIncorrect(WsisError):
    status = 400
    code = "code-incorrect"
    title = "The code is not correct"


class CodeExpired(WsisError):
    status = 410
    code = "code-expired"
    title = "No valid code for this address"


class CodeLocked(WsisError):
    status = 429
    code = "too-many-attempts"
    title = "Too many wrong codes"


class CodeAlreadyUsed(WsisError):
    status = 409
    code = "code-already-used"
    title = "This code was used already"


class CodeResendRefused(TooManyRequests):
    code = "code-resend-too-soon"
    title = "A new code cannot be sent yet"


class MailNotSent(WsisError):
    status = 503
    code = "mail-not-sent"
    title = "The code could not be sent"


class VoterSignUpUnavailable(WsisError):
    status = 503
    code = "voter-sign-up-unavailable"
    title = "Voter sign-up is not configured"


# --- addresses -----------------------------------------------------------------------------------


class EmailAddress(BaseModel):
    """An address in its two forms: where mail goes, and which mailbox (so which voter) it is."""

    model_config = ConfigDict(frozen=True)

    delivery: str
    canonical: str


def parse_email(raw: str) -> EmailAddress:
    """Validate (syntax and domain rules, no network) and normalise an address.

    The messages never repeat the address: they may end up in a client's logs.
    """
    text = raw.strip()
    if not text:
        raise InvalidInput("enter your email address", errors=[_pointer("an address is needed")])
    if len(text) > _MAX_ADDRESS_LENGTH:
        raise InvalidInput(
            f"an email address has at most {_MAX_ADDRESS_LENGTH} characters",
            errors=[_pointer("too long")],
        )
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc)
        raise InvalidInput(
            f"this is not a valid email address: {reason}", errors=[_pointer(reason)]
        ) from None
    local = info.local_part.lower()
    domain = info.ascii_domain.lower()
    base, plus, _tag = local.partition("+")
    if plus and base:
        local = base
    if domain in _GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    # Mail goes to the ASCII form of an international domain (vera@xn--bcher-kva.de) whenever
    # the local part allows it: many relays do not speak SMTPUTF8.
    return EmailAddress(delivery=info.ascii_email or info.normalized, canonical=f"{local}@{domain}")


def _pointer(detail: str) -> dict[str, str]:
    return {"pointer": "/email", "detail": detail}


# --- keyed hashes --------------------------------------------------------------------------------


class VoterKeys:
    """Purpose-bound keys derived from the one secret, so a hash made for one use (an address)
    is never valid for another (a code, a rate-limit key, a bot challenge)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the voter hash key needs at least 16 bytes")
        self.address = _derive(secret, "address")
        self.code = _derive(secret, "code")
        self.rate_limit = _derive(secret, "rate-limit")
        self.bot_challenge = _derive(secret, "bot-challenge")


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"wsis-voting/{purpose}".encode(), hashlib.sha256).digest()


def address_key(address: EmailAddress, keys: VoterKeys) -> str:
    """What is stored instead of the address: equal for every spelling of one mailbox."""
    return hmac.new(keys.address, address.canonical.encode(), hashlib.sha256).hexdigest()


def code_digest(code: str, salt: str, keys: VoterKeys) -> str:
    return hmac.new(keys.code, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def generate_salt() -> str:
    return secrets.token_hex(16)


def new_voter_id() -> str:
    return f"voter-{uuid.uuid4().hex}"


# --- the pending registration --------------------------------------------------------------------


class CodePolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    resend_after: timedelta = timedelta(seconds=60)
    max_sends: int = 5


class CheckOutcome(enum.StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"
    LOCKED = "locked"
    EXPIRED = "expired"
    USED = "used"  # the right code, entered again after it signed the voter in


class CodeCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: CheckOutcome
    attempts_left: int = 0


class PendingRegistration(BaseModel):
    """A code sent to an address and not yet entered. Deleted (with the plain address) at
    verification, or by the store at `purge_at`, when its latest code expires."""

    model_config = ConfigDict(validate_assignment=True)

    address_key: str
    delivery_address: str
    started_at: datetime
    code_salt: str
    code_digest: str
    code_sent_at: datetime
    code_expires_at: datetime
    resend_not_before: datetime
    attempts: int = 0
    sends: int = 1

    @property
    def purge_at(self) -> datetime:
        return self.code_expires_at

    @classmethod
    def start(
        cls,
        *,
        key: str,
        address: EmailAddress,
        code: str,
        salt: str,
        keys: VoterKeys,
        now: datetime,
        policy: CodePolicy,
    ) -> PendingRegistration:
        return cls(
            address_key=key,
            delivery_address=address.delivery,
            started_at=now,
            code_salt=salt,
            code_digest=code_digest(code, salt, keys),
            code_sent_at=now,
            code_expires_at=now + policy.ttl,
            resend_not_before=now + policy.resend_after,
        )

    def can_send_again(self, now: datetime, policy: CodePolicy) -> bool:
        return now >= self.resend_not_before and self.sends < policy.max_sends

    def locked(self, policy: CodePolicy) -> bool:
        """Its code took the wrong entries it is allowed: only a new code helps."""
        return self.attempts >= policy.max_attempts

    def refuse_resend(self, now: datetime, policy: CodePolicy) -> CodeResendRefused:
        locked = self.locked(policy)
        if self.sends >= policy.max_sends:
            wait = self.purge_at - now
            last = (
                f"the last one is locked after {policy.max_attempts} wrong codes: ask again"
                if locked
                else "enter the last one, or ask again"
            )
            return CodeResendRefused(
                f"{policy.max_sends} codes were sent for this address already: {last} once it "
                f"has expired (in {_minutes(wait)})",
                retry_after_s=_seconds(wait),
            )
        wait = self.resend_not_before - now
        if locked:
            return CodeResendRefused(
                f"{policy.max_attempts} wrong codes locked the code sent less than "
                f"{int(policy.resend_after.total_seconds())} seconds ago, and a new code "
                f"cannot be sent yet: ask again in {_seconds(wait)} s",
                retry_after_s=_seconds(wait),
            )
        return CodeResendRefused(
            f"a code was sent less than {int(policy.resend_after.total_seconds())} seconds "
            f"ago: check your mailbox (and its spam folder), or ask again in {_seconds(wait)} s",
            retry_after_s=_seconds(wait),
        )

    def reissue(
        self,
        *,
        address: EmailAddress,
        code: str,
        salt: str,
        keys: VoterKeys,
        now: datetime,
        policy: CodePolicy,
    ) -> None:
        """A new code replaces the previous one (which stops working), with fresh attempts."""
        if not self.can_send_again(now, policy):
            raise self.refuse_resend(now, policy)
        self.delivery_address = address.delivery
        self.code_salt = salt
        self.code_digest = code_digest(code, salt, keys)
        self.code_sent_at = now
        self.code_expires_at = now + policy.ttl
        self.resend_not_before = now + policy.resend_after
        self.attempts = 0
        self.sends += 1

    def sending_failed(self, now: datetime) -> None:
        """The mail did not leave: this send does not count, and another may follow at once."""
        self.sends = max(0, self.sends - 1)
        self.resend_not_before = now

    def check(self, code: str, keys: VoterKeys, now: datetime, policy: CodePolicy) -> CodeCheck:
        """Compare in constant time; a wrong code uses up one of the code's attempts."""
        if now >= self.code_expires_at:
            return CodeCheck(outcome=CheckOutcome.EXPIRED)
        if self.attempts >= policy.max_attempts:
            return CodeCheck(outcome=CheckOutcome.LOCKED)
        if hmac.compare_digest(code_digest(code, self.code_salt, keys), self.code_digest):
            return CodeCheck(outcome=CheckOutcome.VERIFIED)
        self.attempts += 1
        left = policy.max_attempts - self.attempts
        outcome = CheckOutcome.WRONG if left > 0 else CheckOutcome.LOCKED
        return CodeCheck(outcome=outcome, attempts_left=left)

    def used(self, now: datetime) -> UsedCode:
        """What stays of it once its code signed the voter in: the code's keyed hash, no
        address."""
        return UsedCode(
            address_key=self.address_key,
            code_salt=self.code_salt,
            code_digest=self.code_digest,
            used_at=now,
            code_expires_at=self.code_expires_at,
        )


class UsedCode(BaseModel):
    """A code that signed a voter in, kept (as its keyed hash, with no address) until it would
    have expired: entered again — a form sent twice, a retried request whose answer was lost —
    it gets an answer that says what happened. It never signs anyone in again."""

    model_config = ConfigDict(frozen=True)

    address_key: str
    code_salt: str
    code_digest: str
    used_at: datetime
    code_expires_at: datetime

    @property
    def purge_at(self) -> datetime:
        return self.code_expires_at

    def matches(self, code: str, keys: VoterKeys, now: datetime) -> bool:
        return now < self.code_expires_at and hmac.compare_digest(
            code_digest(code, self.code_salt, keys), self.code_digest
        )


def refusal(check: CodeCheck, policy: CodePolicy) -> WsisError:
    """The answer to a code that did not verify, saying what to do next."""
    if check.outcome is CheckOutcome.WRONG:
        plural = "s" if check.attempts_left != 1 else ""
        return CodeIncorrect(
            f"this code is not the one we sent: {check.attempts_left} attempt{plural} left",
            attempts_left=check.attempts_left,
        )
    if check.outcome is CheckOutcome.LOCKED:
        return CodeLocked(
            f"{policy.max_attempts} wrong codes: this code no longer works; ask for a new code",
            attempts_left=0,
        )
    if check.outcome is CheckOutcome.USED:
        return CodeAlreadyUsed(
            "this code was already used to sign in (a code works once); ask for a new code to "
            "sign in on another device"
        )
    return CodeExpired(
        "there is no valid code for this address: it expired (codes last "
        f"{_minutes(policy.ttl)}) or none was asked for; ask for a new code"
    )


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))


def _minutes(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# --- voters --------------------------------------------------------------------------------------


class Voter(BaseModel):
    """A verified voter: a stable id and the keyed hash of their mailbox, nothing else."""

    model_config = ConfigDict(validate_assignment=True)

    voter_id: str
    address_key: str
    registered_at: datetime
    last_verified_at: datetime


# --- voter tokens --------------------------------------------------------------------------------


class IssuedToken(BaseModel):
    model_config = ConfigDict(frozen=True)

    token: str
    voter_id: str
    expires_at: datetime


def _unverified_claims(token: str) -> dict[str, Any] | None:
    """The claims of a compact JWS, not verified. PyJWT's own unverified decode checks every
    character of all three segments in Python (40 µs a token, a vote's first request pays it
    before the real check); decoding the payload alone takes 3 µs."""
    segments = token.split(".")
    if len(segments) != 3:
        return None
    payload = segments[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, RecursionError):  # binascii, Unicode and JSON errors are ValueErrors;
        return None  # a forged payload nested a thousand deep is a RecursionError
    return claims if isinstance(claims, dict) else None


class VoterTokens:
    """Signs and checks the voting service's own voter tokens (RS256).

    A token that carries this issuer is only ever checked against this key, and only ever
    grants the role `voter`: one that claims anything else is refused outright.
    """

    def __init__(
        self, private_key_pem: bytes, *, issuer: str, audience: str, ttl: timedelta
    ) -> None:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, RSAPrivateKey):
            raise ValueError("the voter token key must be an RSA private key (PEM)")
        self._private_key = key
        self._public_key = key.public_key()
        der = self._public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = hashlib.sha256(der).hexdigest()[:16]
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self._verified = VerifiedTokens()

    def issue(self, voter_id: str, now: datetime) -> IssuedToken:
        issued = int(now.timestamp())
        expires = issued + int(self.ttl.total_seconds())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": voter_id,
            "roles": [VOTER_ROLE],
            "iat": issued,
            "nbf": issued,
            "exp": expires,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(
            claims, self._private_key, algorithm="RS256", headers={"kid": self.key_id}
        )
        return IssuedToken(
            token=token, voter_id=voter_id, expires_at=datetime.fromtimestamp(expires, UTC)
        )

    def issued_here(self, token: str) -> bool:
        """Whether the token names this service as its issuer (read before any check, only to
        choose the key that must have signed it)."""
        if self._verified.knows(token):
            return True
        claims = _unverified_claims(token)
        return claims is not None and claims.get("iss") == self.issuer

    def verify(self, token: str) -> str:
        """The voter id of a valid token of ours; `Unauthenticated` otherwise."""
        return self.principal(token).subject

    def principal(self, token: str) -> Principal:
        """Who a valid token of ours names (the role voter, nothing else); `Unauthenticated`
        otherwise. A token is checked once, then served from a cache until it expires."""
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                # Replicas' clocks differ a little: a token issued by one a second "in the
                # future" of another is still good there.
                leeway=CLOCK_SKEW,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated(
                "the voter token has expired: ask for a new code to sign in again"
            ) from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"the voter token was refused: {exc}") from exc
        if claims.get("roles") != [VOTER_ROLE]:
            raise Unauthenticated(
                "the voter token was refused: a token of the voting service grants the role "
                "voter and nothing else"
            )
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("the voter token was refused: it names no voter")
        principal = Principal(subject=subject, roles=frozenset({Role.VOTER}))
        self._verified.put(token, principal, float(claims["exp"]))
        return principal
