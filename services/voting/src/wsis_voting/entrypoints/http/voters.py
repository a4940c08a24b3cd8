"""Voter sign-up by email code, the voter tokens, and the abuse defences of public voting.

Endpoints (anyone may call them):
- `POST /voters/registrations` {email} → 202: a code is on its way (the same answer for a new
  address and a voter's known one: asking again is also how a voter signs in again); 429 with
  `Retry-After` while the last code is locked by wrong entries and no new one may be sent yet;
- `POST /voters/registrations/resend` {email} → 202, or 429 with `Retry-After` when the last
  code is younger than a minute or five codes were sent already;
- `POST /voters/verification` {email, code} → 200 {token, voter_id, expires_at}, or a reason:
  400 wrong code (attempts left), 409 the code was used already (it works once), 410 expired or
  never asked for, 429 too many attempts;
- `GET /voters/bot-challenge` → a proof-of-work challenge when the bot check is on.

Dependencies for other endpoints: `authenticate_voter` (behind `Voter`), `BotCheck` (the
pluggable bot check, off by default) and `AdmittedVoter` (a voter past the per-IP and per-voter
vote limits — 429 with `Retry-After` — and the bot check: what casting a vote needs).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Final, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem
from pydantic import BaseModel, Field, field_validator
from pydantic.config import JsonDict

from wsis_shared.auth import Principal, TokenVerifier
from wsis_shared.errors import Forbidden, TooManyRequests, Unauthenticated
from wsis_shared.events import utcnow
from wsis_shared.runtime import Resources
from wsis_shared.uow import runner_dependency
from wsis_shared.vocabulary import Role
from wsis_shared.web import problem
from wsis_voting.adapters.mailer import SmtpMailer
from wsis_voting.adapters.rate_limits import (
    RATE_LIMITS,
    SPENT_CHALLENGES,
    AbuseLimiter,
    BatchedMongoRateLimitStorage,
    MongoRateLimitStorage,
    MongoSpentChallenges,
    parse_limits,
)
from wsis_voting.adapters.voters import VoterUnitOfWork
from wsis_voting.domain.bot_challenge import (
    PROOF_HEADER,
    BotChallenge,
    NoBotChallenge,
    ProofOfWork,
)
from wsis_voting.domain.voters import (
    CODE_DIGITS,
    CodePolicy,
    VoterKeys,
    VoterSignUpUnavailable,
    VoterTokens,
    parse_email,
)
from wsis_voting.service_layer import voters as use_cases
from wsis_voting.service_layer.voters import CodeMailer, CodeRequested, VoterRunner
from wsis_voting.settings import VotingSettings

router = APIRouter(tags=["voters"])

_CODE: Final = re.compile(rf"^\d{{{CODE_DIGITS}}}$")


# --- what the voter endpoints hold for the app's lifetime ----------------------------------------


@dataclass(frozen=True)
class VoterServices:
    keys: VoterKeys
    policy: CodePolicy
    mailer: CodeMailer
    tokens: VoterTokens | None
    bot: BotChallenge
    rate_limits_enabled: bool
    codes_per_address: tuple[RateLimitItem, ...]
    codes_per_ip: tuple[RateLimitItem, ...]
    verifications_per_ip: tuple[RateLimitItem, ...]
    votes_per_voter: tuple[RateLimitItem, ...]
    votes_per_ip: tuple[RateLimitItem, ...]
    _batched: dict[int, BatchedMongoRateLimitStorage] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: VotingSettings) -> VoterServices:
        keys = VoterKeys(settings.voter_hash_key.get_secret_value().encode())
        tokens = None
        if settings.voter_token_private_key_file is not None:
            tokens = VoterTokens(
                settings.voter_token_private_key_file.read_bytes(),
                issuer=settings.voter_token_issuer,
                audience=settings.jwt_audience,
                ttl=timedelta(seconds=settings.voter_token_ttl_s),
            )
        bot: BotChallenge = NoBotChallenge()
        if settings.bot_check == "proof-of-work":
            bot = ProofOfWork(
                keys.bot_challenge,
                difficulty=settings.bot_check_difficulty,
                ttl=timedelta(seconds=settings.bot_challenge_ttl_s),
            )
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            keys=keys,
            policy=CodePolicy(
                resend_after=timedelta(seconds=settings.voter_code_resend_after_s),
                max_sends=settings.voter_code_max_sends,
            ),
            mailer=SmtpMailer(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.mail_from,
                username=settings.smtp_username,
                password=password,
                security=settings.smtp_security,
                timeout_s=settings.smtp_timeout_s,
            ),
            tokens=tokens,
            bot=bot,
            rate_limits_enabled=settings.rate_limits_enabled,
            codes_per_address=parse_limits(settings.rate_limit_codes_per_address),
            codes_per_ip=parse_limits(settings.rate_limit_codes_per_ip),
            verifications_per_ip=parse_limits(settings.rate_limit_verifications_per_ip),
            votes_per_voter=parse_limits(settings.rate_limit_votes_per_voter),
            votes_per_ip=parse_limits(settings.rate_limit_votes_per_ip),
        )

    def limiter(self, request: Request) -> AbuseLimiter:
        """Exact counts, one write per hit: for code requests and verifications."""
        resources: Resources = request.app.state.resources
        return AbuseLimiter(
            MongoRateLimitStorage(resources.db[RATE_LIMITS]),
            key=self.keys.rate_limit,
            enabled=self.rate_limits_enabled,
        )

    def vote_limiter(self, request: Request) -> AbuseLimiter:
        """Counts kept in memory and written in batches (one per process and app lifetime)."""
        resources: Resources = request.app.state.resources
        storage = self._batched.get(id(resources))
        if storage is None:
            self._batched.clear()  # an app restarted in-process (tests) has new resources
            storage = self._batched[id(resources)] = BatchedMongoRateLimitStorage(
                resources.db[RATE_LIMITS]
            )
        return AbuseLimiter(storage, key=self.keys.rate_limit, enabled=self.rate_limits_enabled)

    def require_tokens(self) -> VoterTokens:
        if self.tokens is None:
            raise VoterSignUpUnavailable(
                "voter sign-up by email is not set up on this server "
                "(WSIS_VOTING_VOTER_TOKEN_PRIVATE_KEY_FILE): sign in with your account instead"
            )
        return self.tokens


def install(app: FastAPI, settings: VotingSettings) -> None:
    """Give the app what the voter endpoints and dependencies need (called by `create_app`)."""
    app.state.voter_services = VoterServices.from_settings(settings)
    app.add_exception_handler(TooManyRequests, _too_many_requests)


async def _too_many_requests(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TooManyRequests)
    response: JSONResponse = problem(exc.status, exc.title, exc.detail, exc.code, **exc.extensions)
    response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _services(request: Request) -> VoterServices:
    services: VoterServices | None = getattr(request.app.state, "voter_services", None)
    if services is None:
        raise RuntimeError("wsis_voting.entrypoints.http.voters.install(app) was not called")
    return services


def client_ip(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For only behind trusted proxies:
    `FORWARDED_ALLOW_IPS`); an IPv4 address seen on a dual-stack socket (`::ffff:203.0.113.5`)
    as itself, so a ruling by an IPv4 range finds it."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)


def client_network(request: Request) -> str:
    """What the per-address limits count: an IPv6 client by its /64, the block one household or
    phone is given (it can take a new address in it at will), an IPv4 client by its address."""
    ip = client_ip(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return ip


VoterUoW = Annotated[VoterRunner, Depends(runner_dependency(VoterUnitOfWork))]


# --- dependencies for other endpoints ------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False)


async def authenticate_voter(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """A voter: a token of this service's own (signed with its voter key: role voter, never
    more), or the identity provider's token holding the role voter."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send a bearer token: Authorization: Bearer <token>")
    token = credentials.credentials
    services: VoterServices | None = getattr(request.app.state, "voter_services", None)
    tokens = services.tokens if services is not None else None
    if tokens is not None and tokens.issued_here(token):
        return tokens.principal(token)
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(token)
    if not principal.has(Role.VOTER):
        raise Forbidden("this needs the role voter", required_roles=[Role.VOTER])
    return principal


async def _check_vote_limits(request: Request, voter: Principal) -> None:
    """Per-IP and per-voter limits on casting votes (`WSIS_VOTING_RATE_LIMIT_VOTES_PER_*`)."""
    services = _services(request)
    if not services.rate_limits_enabled:
        return
    await services.vote_limiter(request).hit_all(
        ("votes-ip", services.votes_per_ip, client_network(request)),
        ("votes-voter", services.votes_per_voter, voter.subject),
    )


_ProofHeader = Annotated[
    str | None,
    Header(
        alias=PROOF_HEADER,
        description="'<challenge>:<nonce>' solving a challenge of GET /voters/bot-challenge "
        "(needed only when the server's bot check is on)",
    ),
]


async def bot_check(request: Request, proof: _ProofHeader = None) -> None:
    """The configured bot check (`WSIS_VOTING_BOT_CHECK`; off: every request passes)."""
    services = _services(request)
    if not services.bot.enabled:
        return
    resources: Resources = request.app.state.resources
    await services.bot.check(
        proof, now=utcnow(), spent=MongoSpentChallenges(resources.db[SPENT_CHALLENGES])
    )


async def admitted_voter(
    request: Request,
    voter: Annotated[Principal, Depends(authenticate_voter)],
    proof: _ProofHeader = None,
) -> Principal:
    """The voter of a vote, past the abuse limits and the bot check, in that order. One
    dependency rather than three: FastAPI's solving of each costs a vote ~20 µs, at a peak a
    few percent of the API's CPU."""
    await _check_vote_limits(request, voter)
    await bot_check(request, proof)
    return voter


AdmittedVoter = Annotated[Principal, Depends(admitted_voter)]
BotCheck = Annotated[None, Depends(bot_check)]


# --- the endpoints -------------------------------------------------------------------------------


# The schema says what the server checks, so a client (or a fuzzer) sends addresses and codes.
_EMAIL: Final[JsonDict] = {"format": "email"}
_CODE_PATTERN: Final[JsonDict] = {"pattern": rf"^[\s-]*(?:\d[\s-]*){{{CODE_DIGITS}}}$"}


class CodeRequestCreate(BaseModel):
    email: str = Field(max_length=320, examples=["vera@example.org"], json_schema_extra=_EMAIL)


class CodeRequestPublic(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str
    code_valid_for_s: int
    resend_after_s: int


class VerificationCreate(BaseModel):
    email: str = Field(max_length=320, examples=["vera@example.org"], json_schema_extra=_EMAIL)
    code: str = Field(
        max_length=32,
        description=f"the {CODE_DIGITS} digits from the mail (spaces and dashes are ignored)",
        examples=["042317"],
        json_schema_extra=_CODE_PATTERN,
    )

    @field_validator("code")
    @classmethod
    def _digits(cls, value: str) -> str:
        digits = re.sub(r"[\s-]", "", value)
        if not _CODE.match(digits):
            raise ValueError(f"the code is the {CODE_DIGITS} digits from the mail")
        # Typed on an Arabic, Persian or full-width keyboard: the same digits ("١٢٣" is "123").
        return "".join(str(unicodedata.decimal(digit)) for digit in digits)


class VoterTokenPublic(BaseModel):
    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme, not a secret
    voter_id: str
    expires_at: datetime


class BotChallengePublic(BaseModel):
    enabled: bool
    kind: str | None = None
    challenge: str | None = None
    difficulty: int | None = None
    expires_at: datetime | None = None
    header: str | None = None
    how: str | None = None


_REFUSALS: Final[dict[int | str, dict[str, str]]] = {
    422: {"description": "not an email address"},
    428: {"description": "the bot check is on and the request carries no proof"},
    403: {"description": "the proof of the bot check was refused"},
    429: {"description": "too many requests (Retry-After says when to try again)"},
    503: {"description": "the code could not be sent, or sign-up is not set up"},
}


async def _request_code(
    request: Request, body: CodeRequestCreate, uow: VoterRunner, *, resend: bool
) -> CodeRequestPublic:
    services = _services(request)
    services.require_tokens()
    limiter = services.limiter(request)
    await limiter.hit("codes-ip", services.codes_per_ip, client_network(request))
    address = parse_email(body.email)
    # Codes sent, not requests: a double tap, a slow network's retries or a second device
    # asking within the minute send nothing, and must not use up the address's codes.
    await limiter.check("codes-address", services.codes_per_address, address.canonical)
    now = utcnow()
    answer: CodeRequested = await use_cases.request_code(
        uow,
        services.mailer,
        address=address,
        keys=services.keys,
        policy=services.policy,
        now=now,
        resend=resend,
    )
    if answer.sent:
        # Counted, never refused: the code is in the mail already, and the voter must be
        # told so (the check above refused before sending).
        with contextlib.suppress(TooManyRequests):
            await limiter.hit("codes-address", services.codes_per_address, address.canonical)
    return CodeRequestPublic(
        detail=(
            f"If this address can receive mail, a {CODE_DIGITS}-digit code is on its way: enter "
            "it with POST /voters/verification before it expires. No mail after a few minutes? "
            "Check the spam folder, then ask for a new code."
        ),
        code_valid_for_s=max(0, int((answer.code_expires_at - now).total_seconds())),
        resend_after_s=max(0, int((answer.resend_not_before - now).total_seconds() + 0.999)),
    )


@router.post(
    "/voters/registrations",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Ask for a code to sign up, or to sign in again, as a voter (anyone)",
    description=(
        "Sends a one-time code to the address. The answer is the same whether the address is "
        "new or a voter's already. Asking again within a minute sends nothing new (the code "
        "sent stands); if that code is locked by wrong entries, 429 with Retry-After says when "
        "a new one can be sent."
    ),
    responses=_REFUSALS,
)
async def register(
    body: CodeRequestCreate, request: Request, uow: VoterUoW, _: BotCheck
) -> CodeRequestPublic:
    return await _request_code(request, body, uow, resend=False)


@router.post(
    "/voters/registrations/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new code (the previous one stops working) (anyone)",
    description="At most one a minute and five per registration; 429 with Retry-After beyond.",
    responses=_REFUSALS,
)
async def resend(
    body: CodeRequestCreate, request: Request, uow: VoterUoW, _: BotCheck
) -> CodeRequestPublic:
    return await _request_code(request, body, uow, resend=True)


@router.post(
    "/voters/verification",
    summary="Enter the code: get a voter token (anyone)",
    responses={
        400: {"description": "wrong code (attempts_left says how many tries remain)"},
        409: {"description": "the code was used already to sign in: it works once"},
        410: {"description": "the code expired, or none was asked for: ask for a new one"},
        422: {"description": "not an email address, or not a 6-digit code"},
        429: {"description": "too many wrong codes (ask for a new one), or too many requests"},
        503: {"description": "sign-up is not set up on this server"},
    },
)
async def verify(body: VerificationCreate, request: Request, uow: VoterUoW) -> VoterTokenPublic:
    services = _services(request)
    tokens = services.require_tokens()
    await services.limiter(request).hit(
        "verifications-ip", services.verifications_per_ip, client_network(request)
    )
    address = parse_email(body.email)
    now = utcnow()
    voter, _ = await use_cases.verify_code(
        uow, address=address, code=body.code, keys=services.keys, policy=services.policy, now=now
    )
    issued = tokens.issue(voter.voter_id, now)
    return VoterTokenPublic(
        token=issued.token, voter_id=voter.voter_id, expires_at=issued.expires_at
    )


@router.get(
    "/voters/bot-challenge",
    summary="A proof-of-work challenge, when the bot check is on (anyone)",
)
async def get_bot_challenge(request: Request, response: Response) -> BotChallengePublic:
    response.headers["Cache-Control"] = "no-store"
    offer = _services(request).bot.offer(utcnow())
    if offer is None:
        return BotChallengePublic(enabled=False)
    return BotChallengePublic(enabled=True, **offer.model_dump())
