"""Voter sign-up: addresses and their normalisation, keyed hashes, the one-time code (expiry,
attempts, resends), voter tokens, the proof-of-work bot check and the abuse limiter."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
import structlog
from limits.aio.storage import MemoryStorage
from pydantic import ValidationError
from starlette.requests import Request

from tests.unit.in_memory import EventRecorder, InMemoryRunner
from wsis_shared.auth import ensure_dev_keys
from wsis_shared.errors import InvalidInput, TooManyRequests, Unauthenticated
from wsis_shared.vocabulary import Role
from wsis_voting.adapters.mailer import code_message
from wsis_voting.adapters.rate_limits import AbuseLimiter, parse_limits
from wsis_voting.domain.bot_challenge import (
    BotCheckFailed,
    BotCheckRequired,
    NoBotChallenge,
    ProofOfWork,
    leading_zero_bits,
    solve,
)
from wsis_voting.domain.voters import (
    CodeExpired,
    CodeIncorrect,
    CodeLocked,
    CodePolicy,
    CodeResendRefused,
    EmailAddress,
    MailNotSent,
    PendingRegistration,
    UsedCode,
    Voter,
    VoterKeys,
    VoterTokens,
    address_key,
    code_digest,
    generate_code,
    parse_email,
)
from wsis_voting.entrypoints.http.voters import client_ip, client_network
from wsis_voting.service_layer.voters import request_code, verify_code
from wsis_voting.settings import VotingSettings

NOW = datetime(2027, 4, 3, 9, 0, tzinfo=UTC)
KEYS = VoterKeys(b"unit-test voter hash key")
POLICY = CodePolicy()


# --- fakes ---------------------------------------------------------------------------------------


@dataclass
class VoterState:
    voters: dict[str, Voter] = field(default_factory=dict)
    registrations: dict[str, PendingRegistration] = field(default_factory=dict)
    used_codes: dict[str, UsedCode] = field(default_factory=dict)


class InMemoryVoters:
    def __init__(self, items: dict[str, Voter]) -> None:
        self.items = items

    async def by_address(self, address_key: str) -> Voter | None:
        found = [v for v in self.items.values() if v.address_key == address_key]
        return found[0].model_copy() if found else None

    async def save(self, voter: Voter) -> None:
        self.items[voter.voter_id] = voter.model_copy()


class InMemoryRegistrations:
    """One document per mailbox, as in MongoDB: a pending code, or the record of a used one."""

    def __init__(self, items: dict[str, PendingRegistration], used: dict[str, UsedCode]) -> None:
        self.items = items
        self.used_codes = used

    async def get(self, address_key: str, now: datetime) -> PendingRegistration | None:
        found = self.items.get(address_key)
        return found.model_copy() if found and found.purge_at > now else None

    async def save(self, registration: PendingRegistration) -> None:
        self.used_codes.pop(registration.address_key, None)
        self.items[registration.address_key] = registration.model_copy()

    async def delete(self, address_key: str) -> None:
        self.items.pop(address_key, None)
        self.used_codes.pop(address_key, None)

    async def mark_used(self, used: UsedCode) -> None:
        self.items.pop(used.address_key, None)
        self.used_codes[used.address_key] = used

    async def used(self, address_key: str, now: datetime) -> UsedCode | None:
        found = self.used_codes.get(address_key)
        return found if found and found.purge_at > now else None


class FakeVoterUnitOfWork(EventRecorder):
    def __init__(self, state: VoterState) -> None:
        super().__init__()
        self.voters = InMemoryVoters(state.voters)
        self.registrations = InMemoryRegistrations(state.registrations, state.used_codes)


class Runner(InMemoryRunner[VoterState, FakeVoterUnitOfWork]):
    def __init__(self) -> None:
        super().__init__(VoterState(), FakeVoterUnitOfWork)


@dataclass
class Outbox:
    """The mailer: what would have been sent; `broken` makes the server refuse."""

    sent: list[tuple[str, str, datetime]] = field(default_factory=list)
    broken: bool = False

    async def send_code(self, *, to: str, code: str, expires_at: datetime) -> None:
        if self.broken:
            raise MailNotSent("the mail server did not take the message")
        self.sent.append((to, code, expires_at))

    @property
    def last_code(self) -> str:
        return self.sent[-1][1]


class Codes:
    """Predictable codes: 100001, 100002, …"""

    def __init__(self) -> None:
        self.n = 100000

    def __call__(self) -> str:
        self.n += 1
        return str(self.n)


async def _ask(
    runner: Runner,
    mail: Outbox,
    email: str = "vera@example.org",
    *,
    at: datetime = NOW,
    resend: bool = False,
    codes: Codes | None = None,
    policy: CodePolicy = POLICY,
) -> bool:
    answer = await request_code(
        runner,
        mail,
        address=parse_email(email),
        keys=KEYS,
        policy=policy,
        now=at,
        resend=resend,
        new_code=codes or generate_code,
    )
    return answer.sent


async def _verify(
    runner: Runner, code: str, email: str = "vera@example.org", *, at: datetime = NOW
) -> tuple[Voter, bool]:
    return await verify_code(
        runner, address=parse_email(email), code=code, keys=KEYS, policy=POLICY, now=at
    )


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# --- addresses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "delivery", "canonical"),
    [
        ("  Vera@Example.ORG \n", "Vera@example.org", "vera@example.org"),
        ("vera+wsis2027@example.org", "vera+wsis2027@example.org", "vera@example.org"),
        ("V.e.r.a+votes@GoogleMail.com", "V.e.r.a+votes@googlemail.com", "vera@gmail.com"),
        ("ve.ra@gmail.com", "ve.ra@gmail.com", "vera@gmail.com"),
        ("ve.ra@example.org", "ve.ra@example.org", "ve.ra@example.org"),  # dots count elsewhere
        ("jean-luc@example.org", "jean-luc@example.org", "jean-luc@example.org"),
        ("+news@example.org", "+news@example.org", "+news@example.org"),  # nothing before '+'
        # An international domain: mail goes to its ASCII form (relays without SMTPUTF8).
        ("vera@bücher.example", "vera@xn--bcher-kva.example", "vera@xn--bcher-kva.example"),
        ("vera@XN--BCHER-KVA.example", "vera@xn--bcher-kva.example", "vera@xn--bcher-kva.example"),
        # ... unless the local part is not ASCII: that mail needs SMTPUTF8 whatever is done.
        ("вера@bücher.example", "вера@bücher.example", "вера@xn--bcher-kva.example"),
    ],
)
def test_an_address_is_delivered_as_typed_and_counted_once_per_mailbox(
    typed: str, delivery: str, canonical: str
) -> None:
    assert parse_email(typed) == EmailAddress(delivery=delivery, canonical=canonical)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "vera",
        "vera@",
        "@example.org",
        "vera@@example.org",
        "vera@example",
        "a" * 250 + "@example.org",
        "vera @example.org",
    ],
)
def test_what_is_not_an_address_is_refused_without_repeating_it(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_email(typed)
    assert refused.value.extensions["errors"][0]["pointer"] == "/email"
    if typed.strip():
        assert typed.strip() not in refused.value.detail


def test_the_stored_key_is_the_same_for_every_spelling_and_depends_on_the_secret() -> None:
    spellings = ["Vera@Gmail.com", "v.e.r.a@gmail.com", "vera+x@googlemail.com"]
    keys = {address_key(parse_email(s), KEYS) for s in spellings}
    assert len(keys) == 1
    key = keys.pop()
    assert len(key) == 64
    assert "vera" not in key
    assert key != hashlib.sha256(b"vera@gmail.com").hexdigest()  # keyed, not a plain hash
    assert address_key(parse_email("vera@gmail.com"), VoterKeys(b"another secret key!!")) != key
    assert address_key(parse_email("vera2@gmail.com"), KEYS) != key


def test_codes_are_stored_as_salted_keyed_hashes() -> None:
    digest = code_digest("042317", "salt-1", KEYS)
    assert "042317" not in digest
    assert digest != code_digest("042317", "salt-2", KEYS)
    assert digest != code_digest("042318", "salt-1", KEYS)
    assert digest == code_digest("042317", "salt-1", KEYS)


def test_keys_are_derived_per_purpose_and_a_short_secret_is_refused() -> None:
    assert len({KEYS.address, KEYS.code, KEYS.rate_limit, KEYS.bot_challenge}) == 4
    with pytest.raises(ValueError, match="16 bytes"):
        VoterKeys(b"short")


def test_codes_have_six_digits() -> None:
    codes = {generate_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 190


# --- the code flow -------------------------------------------------------------------------------


async def test_a_code_goes_to_the_address_and_only_its_hash_is_stored() -> None:
    runner, mail = Runner(), Outbox()
    assert await _ask(runner, mail, "  Vera+wsis@Example.org ")
    [(to, code, expires_at)] = mail.sent
    assert to == "Vera+wsis@example.org"
    assert expires_at == NOW + timedelta(minutes=10)
    [pending] = runner.state.registrations.values()
    assert code not in pending.model_dump_json()
    assert pending.address_key == address_key(parse_email("vera@example.org"), KEYS)


async def test_the_right_code_makes_a_voter_and_erases_the_address() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail)
    voter, created = await _verify(runner, mail.last_code, at=NOW + timedelta(minutes=9))
    assert created
    assert voter.voter_id.startswith("voter-")
    assert runner.state.registrations == {}
    assert "example.org" not in json.dumps(
        [v.model_dump(mode="json") for v in runner.state.voters.values()]
    )


async def test_asking_again_with_another_spelling_signs_the_same_voter_in() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail, "vera@gmail.com")
    first, _ = await _verify(runner, mail.last_code, "vera@gmail.com")
    later = NOW + timedelta(days=2)
    await _ask(runner, mail, "V.era+phone@googlemail.com", at=later)
    assert mail.sent[-1][0] == "V.era+phone@googlemail.com"
    again, created = await _verify(runner, mail.last_code, "v.era@gmail.com", at=later)
    assert (again.voter_id, created) == (first.voter_id, False)
    assert again.last_verified_at == later
    assert len(runner.state.voters) == 1


async def test_the_answer_is_the_same_for_a_new_and_a_known_address() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail, "known@example.org")
    await _verify(runner, mail.last_code, "known@example.org")
    later = NOW + timedelta(hours=1)
    known = await request_code(
        runner,
        mail,
        address=parse_email("known@example.org"),
        keys=KEYS,
        policy=POLICY,
        now=later,
        resend=False,
    )
    new = await request_code(
        runner,
        mail,
        address=parse_email("new@example.org"),
        keys=KEYS,
        policy=POLICY,
        now=later,
        resend=False,
    )
    assert known == new
    assert [to for to, _, _ in mail.sent[-2:]] == ["known@example.org", "new@example.org"]


async def test_a_wrong_code_counts_and_says_how_many_attempts_are_left() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail)
    right = mail.last_code
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeIncorrect) as wrong:
            await _verify(runner, _wrong(right))
        assert wrong.value.extensions["attempts_left"] == left
        assert f"{left} attempt" in wrong.value.detail
    with pytest.raises(CodeLocked) as locked:
        await _verify(runner, _wrong(right))
    assert "ask for a new code" in locked.value.detail
    with pytest.raises(CodeLocked):  # the right code no longer helps
        await _verify(runner, right)
    assert runner.state.voters == {}


async def test_a_new_code_after_the_lock_works_with_fresh_attempts() -> None:
    runner, mail, codes = Runner(), Outbox(), Codes()
    await _ask(runner, mail, codes=codes)
    for _ in range(5):
        with pytest.raises((CodeIncorrect, CodeLocked)):
            await _verify(runner, "999999")
    later = NOW + timedelta(seconds=61)
    assert await _ask(runner, mail, resend=True, at=later, codes=codes)
    with pytest.raises(CodeIncorrect) as wrong:
        await _verify(runner, "999999", at=later)
    assert wrong.value.extensions["attempts_left"] == 4
    voter, _ = await _verify(runner, mail.last_code, at=later)
    assert voter.voter_id


async def test_a_code_expires_after_ten_minutes() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail)
    with pytest.raises(CodeExpired) as expired:
        await _verify(runner, mail.last_code, at=NOW + timedelta(minutes=10))
    assert "ask for a new code" in expired.value.detail
    assert expired.value.status == 410


async def test_a_code_past_its_expiry_checks_as_expired() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail)
    pending = next(iter(runner.state.registrations.values()))
    check = pending.check(mail.last_code, KEYS, NOW + timedelta(minutes=11), POLICY)
    assert check.outcome == "expired"


async def test_verifying_without_asking_says_to_ask_for_a_code() -> None:
    with pytest.raises(CodeExpired):
        await _verify(Runner(), "123456")


async def test_a_resend_within_a_minute_is_refused_with_the_wait() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail)
    with pytest.raises(CodeResendRefused) as refused:
        await _ask(runner, mail, resend=True, at=NOW + timedelta(seconds=20))
    assert refused.value.retry_after_s == 40
    assert refused.value.status == 429
    assert len(mail.sent) == 1


async def test_asking_twice_within_a_minute_sends_once_and_answers_alike() -> None:
    runner, mail = Runner(), Outbox()
    assert await _ask(runner, mail)
    assert not await _ask(runner, mail, at=NOW + timedelta(seconds=5))
    assert len(mail.sent) == 1
    await _verify(runner, mail.last_code, at=NOW + timedelta(seconds=6))


async def test_a_resent_code_replaces_the_previous_one() -> None:
    runner, mail, codes = Runner(), Outbox(), Codes()
    await _ask(runner, mail, codes=codes)
    first = mail.last_code
    later = NOW + timedelta(minutes=1)
    await _ask(runner, mail, resend=True, at=later, codes=codes)
    assert mail.last_code != first
    assert mail.sent[-1][2] == later + timedelta(minutes=10)
    with pytest.raises(CodeIncorrect):
        await _verify(runner, first, at=later)
    await _verify(runner, mail.last_code, at=later)


async def test_at_most_five_codes_per_registration() -> None:
    runner, mail = Runner(), Outbox()
    at = NOW
    await _ask(runner, mail, at=at)
    for _ in range(4):
        at += timedelta(minutes=1)
        assert await _ask(runner, mail, resend=True, at=at)
    at += timedelta(minutes=1)
    with pytest.raises(CodeResendRefused) as refused:
        await _ask(runner, mail, resend=True, at=at)
    assert "5 codes" in refused.value.detail
    assert refused.value.retry_after_s == 9 * 60  # until the last code expires
    assert len(mail.sent) == 5
    with pytest.raises(CodeResendRefused):  # a plain request is told too, not silently ignored
        await _ask(runner, mail, at=at)
    # Once the registration has expired, a new one may start.
    assert await _ask(runner, mail, at=at + timedelta(minutes=10))


async def test_a_mail_that_cannot_leave_does_not_block_the_next_request() -> None:
    runner, mail = Runner(), Outbox(broken=True)
    with pytest.raises(MailNotSent):
        await _ask(runner, mail)
    assert runner.state.registrations == {}
    mail.broken = False
    assert await _ask(runner, mail, at=NOW + timedelta(seconds=1), resend=True)
    mail.broken = True
    with pytest.raises(MailNotSent):
        await _ask(runner, mail, at=NOW + timedelta(seconds=70), resend=True)
    mail.broken = False
    assert await _ask(runner, mail, at=NOW + timedelta(seconds=71), resend=True)
    await _verify(runner, mail.last_code, at=NOW + timedelta(seconds=72))


async def test_the_logs_of_a_sign_up_hold_neither_address_nor_code() -> None:
    runner, mail = Runner(), Outbox()
    with structlog.testing.capture_logs() as logs:
        await _ask(runner, mail, "secret.person@example.org")
        with pytest.raises(CodeIncorrect):
            await _verify(runner, _wrong(mail.last_code), "secret.person@example.org")
        voter, _ = await _verify(runner, mail.last_code, "secret.person@example.org")
    events = [entry["event"] for entry in logs]
    assert events == ["voters.code.sent", "voters.verification.refused", "voters.verified"]
    text = json.dumps(logs, default=str)
    assert "secret" not in text
    assert "example.org" not in text
    assert mail.last_code not in text
    assert voter.voter_id in text


# --- voter tokens --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    voting_private, voting_public = ensure_dev_keys(tmp_path_factory.mktemp("voting-key"))
    other_private, _ = ensure_dev_keys(tmp_path_factory.mktemp("other-key"))
    return voting_private, voting_public, other_private


def _tokens(private: Path, ttl: timedelta = timedelta(days=7)) -> VoterTokens:
    return VoterTokens(private.read_bytes(), issuer="wsis-voting", audience="wsis", ttl=ttl)


def test_a_voter_token_says_voter_and_nothing_else(key_files: tuple[Path, Path, Path]) -> None:
    private, public, _ = key_files
    tokens = _tokens(private)
    now = datetime.now(UTC)
    issued = tokens.issue("voter-123", now)
    claims = jwt.decode(
        issued.token,
        public.read_bytes(),
        algorithms=["RS256"],
        audience="wsis",
        issuer="wsis-voting",
    )
    assert claims["sub"] == "voter-123"
    assert claims["roles"] == ["voter"]
    assert claims["exp"] - claims["iat"] == 7 * 24 * 3600
    assert "email" not in claims
    assert "@" not in json.dumps(claims)
    assert jwt.get_unverified_header(issued.token) == {
        "alg": "RS256",
        "kid": tokens.key_id,
        "typ": "JWT",
    }
    assert issued.expires_at == datetime.fromtimestamp(claims["exp"], UTC)
    assert tokens.issued_here(issued.token)
    assert tokens.verify(issued.token) == "voter-123"


@pytest.mark.parametrize("roles", [["admin"], ["voter", "admin"], ["chair"], [], "voter"])
def test_a_token_signed_with_the_voter_key_grants_no_other_role(
    key_files: tuple[Path, Path, Path], roles: object
) -> None:
    private, _, _ = key_files
    now = int(datetime.now(UTC).timestamp())
    forged = jwt.encode(
        {
            "iss": "wsis-voting",
            "aud": "wsis",
            "sub": "someone",
            "roles": roles,
            "iat": now,
            "exp": now + 60,
        },
        private.read_bytes(),
        algorithm="RS256",
    )
    with pytest.raises(Unauthenticated, match="voter and nothing else"):
        _tokens(private).verify(forged)


def test_a_voter_token_from_another_key_or_without_signature_is_refused(
    key_files: tuple[Path, Path, Path],
) -> None:
    private, _, other = key_files
    tokens = _tokens(private)
    foreign = _tokens(other).issue("voter-1", datetime.now(UTC)).token
    with pytest.raises(Unauthenticated, match="refused"):
        tokens.verify(foreign)
    header, payload, _ = tokens.issue("voter-1", datetime.now(UTC)).token.split(".")
    unsigned_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    for token in (f"{unsigned_header}.{payload}.", f"{header}.{payload}.", "not.a.token"):
        with pytest.raises(Unauthenticated):
            tokens.verify(token)


def test_an_expired_voter_token_asks_to_sign_in_again(key_files: tuple[Path, Path, Path]) -> None:
    private, _, _ = key_files
    tokens = _tokens(private, ttl=timedelta(minutes=5))
    old = tokens.issue("voter-1", datetime.now(UTC) - timedelta(hours=1)).token
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(old)


def test_a_token_from_a_replica_whose_clock_runs_a_little_ahead_is_accepted(
    key_files: tuple[Path, Path, Path],
) -> None:
    private, _, _ = key_files
    tokens = _tokens(private)
    ahead = tokens.issue("voter-1", datetime.now(UTC) + timedelta(seconds=10)).token

    assert tokens.verify(ahead) == "voter-1"
    with pytest.raises(Unauthenticated, match="not yet valid"):
        tokens.verify(tokens.issue("voter-2", datetime.now(UTC) + timedelta(minutes=5)).token)


def test_a_voter_token_is_checked_once_then_served_until_it_expires(
    key_files: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch, jwt_checks: list[str]
) -> None:
    private, _, _ = key_files
    tokens = _tokens(private, ttl=timedelta(minutes=5))
    token = tokens.issue("voter-7", datetime.now(UTC)).token
    first = tokens.principal(token)
    again = tokens.principal(token)
    assert first == again
    assert first.subject == "voter-7"
    assert first.roles == frozenset({Role.VOTER})
    assert len(jwt_checks) == 1, "the second use came from the cache"

    later = time.time() + 600  # past the token's expiry, as the cache sees it
    monkeypatch.setattr("wsis_shared.auth.time.time", lambda: later)
    tokens.principal(token)
    assert len(jwt_checks) == 2, "an expired entry is not served from the cache: checked again"


def test_the_identity_providers_tokens_are_not_taken_for_ours(
    key_files: tuple[Path, Path, Path],
) -> None:
    private, _, _ = key_files
    now = int(datetime.now(UTC).timestamp())
    idp = jwt.encode(
        {"iss": "wsis-dev", "aud": "wsis", "sub": "x", "roles": ["admin"], "exp": now + 60},
        private.read_bytes(),
        algorithm="RS256",
    )
    assert not _tokens(private).issued_here(idp)
    for garbage in ("garbage", "a.b", "a.!!!.c", "a.gA.c", "a.bnVsbA.c", "a.WzFd.c", ""):
        assert not _tokens(private).issued_here(garbage), garbage


def test_a_new_voter_token_is_decoded_once_per_request(
    key_files: tuple[Path, Path, Path], jwt_checks: list[str]
) -> None:
    """Telling our tokens from the identity provider's reads the issuer without a second full
    decode: the signature check is the only one."""
    private, _, _ = key_files
    tokens = _tokens(private)
    token = tokens.issue("voter-8", datetime.now(UTC)).token
    assert tokens.issued_here(token)
    assert tokens.principal(token).subject == "voter-8"
    assert len(jwt_checks) == 1


def test_the_voter_issuer_must_differ_from_the_identity_providers() -> None:
    with pytest.raises(ValidationError, match="differ"):
        VotingSettings(voter_token_issuer="wsis-dev", jwt_issuer="wsis-dev")
    with pytest.raises(ValidationError, match="rate limit"):
        VotingSettings(rate_limit_votes_per_voter="plenty")


# --- proof of work -------------------------------------------------------------------------------


class SpentInMemory:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def spend(self, challenge_id: str, expires_at: datetime) -> bool:
        if challenge_id in self.ids:
            return False
        self.ids.add(challenge_id)
        return True


POW = ProofOfWork(KEYS.bot_challenge, difficulty=12, ttl=timedelta(minutes=5))


def test_leading_zero_bits() -> None:
    assert leading_zero_bits(b"\x00\x00\xff") == 16
    assert leading_zero_bits(b"\x00\x10") == 11
    assert leading_zero_bits(b"\x80") == 0
    assert leading_zero_bits(b"\x00") == 8


async def test_a_solved_challenge_passes_once() -> None:
    offer = POW.offer(NOW)
    assert offer.difficulty == 12
    assert offer.expires_at == NOW + timedelta(minutes=5)
    nonce = solve(offer.challenge, offer.difficulty)
    digest = hashlib.sha256(f"{offer.challenge}:{nonce}".encode()).digest()
    assert leading_zero_bits(digest) >= 12
    spent = SpentInMemory()
    await POW.check(f"{offer.challenge}:{nonce}", now=NOW + timedelta(minutes=1), spent=spent)
    with pytest.raises(BotCheckFailed, match="used already"):
        await POW.check(f"{offer.challenge}:{nonce}", now=NOW + timedelta(minutes=1), spent=spent)


def _failing_nonce(challenge: str, difficulty: int) -> str:
    for n in range(1000):
        digest = hashlib.sha256(f"{challenge}:z{n}".encode()).digest()
        if leading_zero_bits(digest) < difficulty:
            return f"z{n}"
    raise AssertionError("no failing nonce")


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong nonce", "does not solve"),
        ("expired", "expired"),
        ("easier", "not issued here"),
        ("other key", "not issued here"),
        ("malformed", "malformed"),
        ("bad nonce characters", "malformed"),
        ("too long", "too long"),
    ],
)
async def test_a_bad_proof_is_refused(case: str, reason: str) -> None:
    offer = POW.offer(NOW)
    nonce = solve(offer.challenge, offer.difficulty)
    at = NOW + timedelta(seconds=10)
    proof = f"{offer.challenge}:{nonce}"
    if case == "wrong nonce":
        proof = f"{offer.challenge}:{_failing_nonce(offer.challenge, 12)}"
    elif case == "expired":
        at = NOW + timedelta(minutes=5)
    elif case == "easier":
        easier = offer.challenge.replace("pow1.12.", "pow1.1.", 1)
        proof = f"{easier}:{solve(easier, 1)}"
    elif case == "other key":
        other = ProofOfWork(b"another key", difficulty=12, ttl=timedelta(minutes=5)).offer(NOW)
        proof = f"{other.challenge}:{solve(other.challenge, 12)}"
    elif case == "malformed":
        proof = offer.challenge
    elif case == "bad nonce characters":
        proof = f"{offer.challenge}:{nonce} OR 1=1"
    elif case == "too long":
        proof = f"{offer.challenge}:{'a' * 300}"
    with pytest.raises(BotCheckFailed, match=reason):
        await POW.check(proof, now=at, spent=SpentInMemory())


async def test_raising_the_difficulty_retires_easier_challenges() -> None:
    offer = POW.offer(NOW)
    harder = ProofOfWork(KEYS.bot_challenge, difficulty=14, ttl=timedelta(minutes=5))
    proof = f"{offer.challenge}:{solve(offer.challenge, 12)}"
    with pytest.raises(BotCheckFailed, match="easier than required"):
        await harder.check(proof, now=NOW, spent=SpentInMemory())


async def test_without_a_proof_the_check_says_where_to_get_a_challenge() -> None:
    with pytest.raises(BotCheckRequired, match="GET /voters/bot-challenge") as required:
        await POW.check(None, now=NOW, spent=SpentInMemory())
    assert required.value.status == 428


async def test_the_check_switched_off_lets_everything_through() -> None:
    off = NoBotChallenge()
    assert off.offer(NOW) is None
    await off.check(None, now=NOW, spent=SpentInMemory())


# --- the abuse limiter ---------------------------------------------------------------------------


async def test_the_limiter_refuses_past_the_limit_with_the_wait() -> None:
    limiter = AbuseLimiter(MemoryStorage(), key=KEYS.rate_limit)
    per_minute = parse_limits("3/minute")
    for _ in range(3):
        await limiter.hit("codes-ip", per_minute, "192.0.2.1")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit("codes-ip", per_minute, "192.0.2.1")
    assert 1 <= refused.value.retry_after_s <= 60
    assert "at most 3 per minute" in refused.value.detail
    assert refused.value.extensions["limit"] == "codes-ip"
    await limiter.hit("codes-ip", per_minute, "192.0.2.2")  # another address has its own count
    await limiter.hit("codes-address", per_minute, "192.0.2.1")  # another limit too


async def test_every_limit_of_a_list_counts_and_the_longest_wait_is_given() -> None:
    limiter = AbuseLimiter(MemoryStorage(), key=KEYS.rate_limit)
    limits_ = parse_limits("10/second;2/hour")
    await limiter.hit("x", limits_, "id")
    await limiter.hit("x", limits_, "id")
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit("x", limits_, "id")
    assert refused.value.retry_after_s > 3000


async def test_several_limits_at_once_raise_the_first_refusal() -> None:
    limiter = AbuseLimiter(MemoryStorage(), key=KEYS.rate_limit)
    one = parse_limits("1/minute")
    many = parse_limits("100/minute")
    await limiter.hit_all(("votes-ip", many, "ip"), ("votes-voter", one, "v"))
    with pytest.raises(TooManyRequests) as refused:
        await limiter.hit_all(("votes-ip", many, "ip"), ("votes-voter", one, "v"))
    assert refused.value.extensions["limit"] == "votes-voter"


async def test_a_disabled_limiter_never_refuses() -> None:
    limiter = AbuseLimiter(MemoryStorage(), key=KEYS.rate_limit, enabled=False)
    for _ in range(5):
        await limiter.hit("x", parse_limits("1/hour"), "id")


# --- the mail ------------------------------------------------------------------------------------


def test_the_mail_carries_the_code_in_its_body_only() -> None:
    message = code_message(
        sender="WSIS Prizes <no-reply@wsis.example>",
        to="Vera@example.org",
        code="042317",
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
    )
    assert message["To"] == "Vera@example.org"
    assert "042317" not in message["Subject"]
    body = message.get_content()
    assert "042317" in body
    assert "10 minutes" in body
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@wsis.example>")


@pytest.mark.parametrize(
    ("host", "address", "counted_as"),
    [
        ("203.0.113.5", "203.0.113.5", "203.0.113.5"),
        ("::ffff:203.0.113.5", "203.0.113.5", "203.0.113.5"),  # IPv4 on a dual-stack socket
        ("2001:db8:7:9::1", "2001:db8:7:9::1", "2001:db8:7:9::/64"),
        ("testclient", "testclient", "testclient"),
    ],
)
def test_a_clients_address_and_what_its_limits_count(
    host: str, address: str, counted_as: str
) -> None:
    request = Request({"type": "http", "client": (host, 40000), "headers": []})

    assert client_ip(request) == address
    assert client_network(request) == counted_as
