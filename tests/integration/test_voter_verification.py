"""Voter sign-up against the real mongod and a real SMTP server (aiosmtpd, in this process):
ask for a code → the mail arrives → enter the code → a voter token that opens the voter's door.
Also: what is stored and logged, the limits (429 with Retry-After), the bot check, refusals."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import structlog
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI

from wsis_devstack.processes import free_port, free_ports
from wsis_devstack.smtp_sink import SmtpSink
from wsis_shared.auth import Principal, ensure_dev_keys, sign_dev_token
from wsis_shared.errors import Unauthenticated
from wsis_shared.mongo import Database
from wsis_shared.vocabulary import Role
from wsis_voting.adapters.rate_limits import BatchedMongoRateLimitStorage, MongoRateLimitStorage
from wsis_voting.app import create_app
from wsis_voting.domain.bot_challenge import solve
from wsis_voting.entrypoints.http.voters import AdmittedVoter
from wsis_voting.settings import VotingSettings

pytestmark = pytest.mark.integration

MY_VOTES = "/editions/2030/my-votes"
PROBLEM = "application/problem+json"
_CLIENT_HOSTS = itertools.count(1)  # each client its own address: per-IP limits stay apart


@dataclass(frozen=True)
class Keys:
    idp_private: bytes
    idp_public: Path
    voting_private_file: Path
    voting_public: bytes


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    idp_private, idp_public = ensure_dev_keys(tmp_path_factory.mktemp("idp"))
    voting_private, voting_public = ensure_dev_keys(tmp_path_factory.mktemp("voting"))
    return Keys(idp_private.read_bytes(), idp_public, voting_private, voting_public.read_bytes())


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    smtp_port, http_port = free_ports(2)
    with SmtpSink(smtp_port=smtp_port, http_port=http_port) as running:
        yield running


@dataclass
class Api:
    app: FastAPI
    settings: VotingSettings

    @asynccontextmanager
    async def client(self, ip: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
        """A client calling from its own address (each test its own: per-IP limits)."""
        address = ip or f"198.51.100.{next(_CLIENT_HOSTS)}"
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://voting") as http:
            yield http

    @property
    def db_name(self) -> str:
        return self.settings.mongo_database


def _test_routes() -> APIRouter:
    """What the cast-vote endpoint will use, on a route of its own (casting is not ours)."""
    router = APIRouter()

    @router.post("/test/admitted-vote")
    async def admitted_vote(voter: AdmittedVoter) -> dict[str, str]:
        return {"voter": voter.subject}

    return router


@asynccontextmanager
async def voting_api(
    mongo_uri: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink, **overrides: Any
) -> AsyncIterator[Api]:
    values: dict[str, Any] = {
        "mongo_uri": mongo_uri,
        "mongo_db_prefix": f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        "jwt_public_key_file": keys.idp_public,
        "voter_token_private_key_file": keys.voting_private_file,
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.smtp_port,
        "smtp_security": "none",
        "rate_limit_codes_per_address": "4/hour",
        "rate_limit_codes_per_ip": "8/minute",
        "rate_limit_votes_per_voter": "3/minute",
        "rate_limit_votes_per_ip": "5/minute",
    }
    settings = VotingSettings(**(values | overrides))
    app = create_app(settings)
    app.include_router(_test_routes())
    async with LifespanManager(app):
        try:
            yield Api(app, settings)
        finally:
            resources = app.state.resources
            await resources.mongo.drop_database(resources.db.name)


@pytest.fixture(scope="module")
async def api(
    mongo_uri: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> AsyncIterator[Api]:
    async with voting_api(mongo_uri, mongo_db_prefix, keys, sink) as running:
        yield running


def _address(tag: str) -> str:
    return f"{tag}.{uuid.uuid4().hex[:8]}@example.org"


async def _code_sent_to(sink: SmtpSink, address: str, count: int = 1) -> str:
    mails = await asyncio.to_thread(sink.wait_for, address, count=count, timeout_s=10)
    assert len(mails) >= count, f"{count} mail(s) to the address expected, got {len(mails)}"
    found = re.search(r"\b(\d{6})\b", mails[0].text)
    assert found, mails[0].text
    return found.group(1)


async def _sign_up(http: httpx.AsyncClient, sink: SmtpSink, address: str) -> dict[str, Any]:
    asked = await http.post("/voters/registrations", json={"email": address})
    assert asked.status_code == 202, asked.text
    code = await _code_sent_to(sink, address)
    verified = await http.post("/voters/verification", json={"email": address, "code": code})
    assert verified.status_code == 200, verified.text
    body: dict[str, Any] = verified.json()
    return body


# --- the whole flow ------------------------------------------------------------------------------


async def test_the_code_from_the_mail_gets_a_token_that_opens_the_voters_door(
    api: Api, sink: SmtpSink, keys: Keys
) -> None:
    address = _address("Vera")
    async with api.client() as http:
        asked = await http.post("/voters/registrations", json={"email": f"  {address} "})
        assert asked.status_code == 202
        assert asked.json()["code_valid_for_s"] == 600
        [mail] = await asyncio.to_thread(sink.wait_for, address)
        assert mail.recipients == (address,)
        code = await _code_sent_to(sink, address)

        verified = await http.post(
            "/voters/verification",
            json={"email": address.upper(), "code": f"{code[:3]} {code[3:]}"},
        )
        assert verified.status_code == 200, verified.text
        body = verified.json()
        assert set(body) == {"token", "token_type", "voter_id", "expires_at"}
        claims = jwt.decode(
            body["token"],
            keys.voting_public,
            algorithms=["RS256"],
            audience="wsis",
            issuer="wsis-voting",
        )
        assert claims["sub"] == body["voter_id"]
        assert claims["roles"] == ["voter"]
        assert "@" not in json.dumps(claims)

        mine = await http.get(MY_VOTES, headers={"Authorization": f"Bearer {body['token']}"})
        assert mine.status_code == 200, mine.text
        assert mine.json() == []

        again = await http.post("/voters/verification", json={"email": address, "code": code})
        assert again.status_code == 409  # a code works once, and the answer says so
        assert again.json()["code"] == "code-already-used"


async def test_one_voter_per_mailbox_however_it_is_spelled(api: Api, sink: SmtpSink) -> None:
    local = f"vera.{uuid.uuid4().hex[:8]}"
    async with api.client() as http:
        first = await _sign_up(http, sink, f"{local}+phone@example.org")
        second = await _sign_up(http, sink, f"{local.upper()}+laptop@EXAMPLE.org")
    assert first["voter_id"] == second["voter_id"]
    assert first["token"] != second["token"]


async def test_a_known_and_a_new_address_get_the_same_answer(api: Api, sink: SmtpSink) -> None:
    known, new = _address("known"), _address("new")
    async with api.client() as http:
        await _sign_up(http, sink, known)
        answers = [
            await http.post("/voters/registrations", json={"email": email})
            for email in (known, new)
        ]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert answers[0].headers["content-type"] == answers[1].headers["content-type"]
    await _code_sent_to(sink, known, count=2)  # the voter gets a code to sign in again
    await _code_sent_to(sink, new)


# --- refusals a person can act on ----------------------------------------------------------------


async def test_wrong_codes_say_what_is_left_then_lock(api: Api, sink: SmtpSink) -> None:
    address = _address("typo")
    async with api.client() as http:
        await http.post("/voters/registrations", json={"email": address})
        code = await _code_sent_to(sink, address)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for left in (4, 3, 2, 1):
            answer = await http.post("/voters/verification", json={"email": address, "code": wrong})
            assert answer.status_code == 400
            assert answer.headers["content-type"] == PROBLEM
            assert answer.json()["code"] == "code-incorrect"
            assert answer.json()["attempts_left"] == left
        locked = await http.post("/voters/verification", json={"email": address, "code": wrong})
        assert locked.status_code == 429
        assert locked.json()["code"] == "too-many-attempts"
        assert "new code" in locked.json()["detail"]
        right = await http.post("/voters/verification", json={"email": address, "code": code})
        assert right.status_code == 429
        resend = await http.post("/voters/registrations/resend", json={"email": address})
        assert resend.status_code == 429  # within the minute: wait, it says how long
        assert 1 <= int(resend.headers["Retry-After"]) <= 60
        assert resend.json()["code"] == "code-resend-too-soon"


async def test_asking_twice_in_a_minute_sends_one_mail(api: Api, sink: SmtpSink) -> None:
    address = _address("double-click")
    async with api.client() as http:
        first = await http.post("/voters/registrations", json={"email": address})
        second = await http.post("/voters/registrations", json={"email": address})
    assert (first.status_code, second.status_code) == (202, 202)
    await _code_sent_to(sink, address)
    await asyncio.sleep(0.3)
    assert len(sink.messages(address)) == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/voters/registrations", {}),
        ("/voters/registrations", {"email": 5}),
        ("/voters/registrations", {"email": "not an address"}),
        ("/voters/registrations", {"email": "vera@"}),
        ("/voters/registrations", {"email": "a" * 400 + "@example.org"}),
        ("/voters/registrations", {"email": "vera@example.org\r\nBcc: all@example.org"}),
        ("/voters/registrations", "not json"),
        ("/voters/registrations", ["vera@example.org"]),
        ("/voters/registrations/resend", {"mail": "vera@example.org"}),
        ("/voters/verification", {"email": "vera@example.org"}),
        ("/voters/verification", {"email": "vera@example.org", "code": "12345"}),
        ("/voters/verification", {"email": "vera@example.org", "code": "abcdef"}),
        ("/voters/verification", {"email": "vera@example.org", "code": 123456}),
        ("/voters/verification", {"email": "nobody", "code": "123456"}),
    ],
)
async def test_bad_input_gets_a_4xx_problem(api: Api, path: str, body: object) -> None:
    async with api.client() as http:
        if isinstance(body, str):
            answer = await http.post(
                path, content=body, headers={"content-type": "application/json"}
            )
        else:
            answer = await http.post(path, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["code"] == "invalid-input"


# --- what is stored, and what is logged ----------------------------------------------------------


async def _everything_stored(api: Api) -> str:
    db = api.app.state.resources.db
    dump = []
    for name in await db.list_collection_names():
        dump += [document async for document in db[name].find({})]
    return json.dumps(dump, default=str)


async def test_only_keyed_hashes_stay_once_verified(api: Api, sink: SmtpSink) -> None:
    address = _address("private")
    async with api.client(ip="203.0.113.77") as http:
        await http.post("/voters/registrations", json={"email": address})
        code = await _code_sent_to(sink, address)
        pending = await _everything_stored(api)
        assert address in pending  # kept for a resend while the code is pending …
        assert f'"{code}"' not in pending  # … but never the code
        verified = await http.post("/voters/verification", json={"email": address, "code": code})
        assert verified.status_code == 200
    stored = await _everything_stored(api)
    for secret in (address, address.split("@")[0], code, "203.0.113.77", verified.json()["token"]):
        assert secret not in stored
    db = api.app.state.resources.db
    voter = await db["voters"].find_one({"_id": verified.json()["voter_id"]})
    assert voter is not None
    assert set(voter) == {"_id", "address_key", "registered_at", "last_verified_at"}


async def test_the_logs_of_a_sign_up_hold_no_address_code_or_token(
    api: Api, sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    address = _address("quiet")
    caplog.set_level(logging.INFO)
    async with api.client() as http:
        with structlog.testing.capture_logs() as logs:
            await http.post("/voters/registrations", json={"email": address})
            code = await _code_sent_to(sink, address)
            wrong = f"{(int(code) + 1) % 10**6:06d}"
            await http.post("/voters/verification", json={"email": address, "code": wrong})
            verified = await http.post(
                "/voters/verification", json={"email": address, "code": code}
            )
            token = verified.json()["token"]
            await http.get(MY_VOTES, headers={"Authorization": f"Bearer {token}"})
    assert {"voters.code.sent", "voters.verification.refused", "voters.verified"} <= {
        entry["event"] for entry in logs
    }
    service_records = [r for r in caplog.records if not r.name.startswith("mail.log")]
    text = json.dumps(logs, default=str) + "\n".join(r.getMessage() for r in service_records)
    for secret in (address, address.split("@")[0], code, wrong, token):
        assert secret not in text


# --- tokens: the voting key grants the role voter and nothing else -------------------------------


async def test_a_token_signed_with_the_voting_key_grants_no_other_role(
    api: Api, keys: Keys
) -> None:
    private = keys.voting_private_file.read_bytes()
    forged_admin = sign_dev_token(
        private, subject="mallory", roles=[Role.ADMIN], issuer="wsis-voting"
    )
    forged_both = sign_dev_token(
        private, subject="mallory", roles=[Role.VOTER, Role.ADMIN], issuer="wsis-voting"
    )
    as_the_idp = sign_dev_token(private, subject="mallory", roles=[Role.ADMIN, Role.VOTER])
    async with api.client() as http:
        for token in (forged_admin, forged_both, as_the_idp):
            answer = await http.get(MY_VOTES, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401, answer.text
            assert answer.headers["content-type"] == PROBLEM
    # Every other door checks tokens with the identity provider's verifier, which refuses them.
    verifier = api.app.state.token_verifier
    for token in (forged_admin, forged_both, as_the_idp):
        with pytest.raises(Unauthenticated):
            await verifier.verify(token)


async def test_the_identity_providers_voter_tokens_still_open_the_door(
    api: Api, keys: Keys
) -> None:
    voter = sign_dev_token(keys.idp_private, subject="idp-voter-1", roles=[Role.VOTER])
    admin = sign_dev_token(keys.idp_private, subject="idp-admin-1", roles=[Role.ADMIN])
    async with api.client() as http:
        assert (
            await http.get(MY_VOTES, headers={"Authorization": f"Bearer {voter}"})
        ).status_code == 200
        assert (
            await http.get(MY_VOTES, headers={"Authorization": f"Bearer {admin}"})
        ).status_code == 403
        assert (await http.get(MY_VOTES)).status_code == 401


async def test_voting_issued_tokens_are_verified_by_the_voter_door_alone(
    api: Api, sink: SmtpSink
) -> None:
    async with api.client() as http:
        issued = await _sign_up(http, sink, _address("door"))
    principal: Principal = await _voter_of(api, issued["token"])
    assert principal.subject == issued["voter_id"]
    assert principal.roles == frozenset({Role.VOTER})
    with pytest.raises(Unauthenticated):
        await api.app.state.token_verifier.verify(issued["token"])


async def _voter_of(api: Api, token: str) -> Principal:
    from fastapi.security import HTTPAuthorizationCredentials
    from starlette.requests import Request

    from wsis_voting.entrypoints.http.voters import authenticate_voter

    request = Request({"type": "http", "app": api.app, "headers": []})
    return await authenticate_voter(
        request, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    )


# --- limits --------------------------------------------------------------------------------------


async def test_a_burst_of_code_requests_for_one_address_sends_one_code_and_locks_nothing(
    api: Api, sink: SmtpSink
) -> None:
    """A double tap, a slow network's retries, a second device asking within the minute: one
    code goes out, and the address's codes for the hour are not used up by requests that sent
    nothing."""
    address = _address("burst")
    async with api.client() as http:
        answers = [
            await http.post("/voters/registrations", json={"email": address}) for _ in range(6)
        ]
    assert [a.status_code for a in answers] == [202] * 6
    await asyncio.sleep(0.3)
    assert len(sink.messages(address)) == 1


async def test_codes_sent_to_one_address_are_limited(
    mongo_uri: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> None:
    address = _address("sent-often")
    async with (
        voting_api(mongo_uri, mongo_db_prefix, keys, sink, voter_code_resend_after_s=0) as eager,
        eager.client() as http,
    ):
        answers = [
            await http.post("/voters/registrations/resend", json={"email": address})
            for _ in range(5)
        ]
    assert [a.status_code for a in answers] == [202, 202, 202, 202, 429]
    refused = answers[4]
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "too-many-requests"
    assert refused.json()["limit"] == "codes-address"
    assert 3000 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.json()["retry_after_s"] == int(refused.headers["Retry-After"])
    await asyncio.sleep(0.3)
    assert len(sink.messages(address)) == 4, "four codes sent, the fifth refused"


async def test_a_burst_of_code_requests_from_one_ip_gets_429(api: Api, sink: SmtpSink) -> None:
    async with api.client(ip="192.0.2.200") as http:
        answers = [
            await http.post("/voters/registrations", json={"email": _address(f"ip{n}")})
            for n in range(9)
        ]
        other = await http.post(
            "/voters/verification", json={"email": "x@example.org", "code": "123456"}
        )
    assert [a.status_code for a in answers] == [202] * 8 + [429]
    assert answers[8].json()["limit"] == "codes-ip"
    assert 1 <= int(answers[8].headers["Retry-After"]) <= 60
    assert other.status_code == 410  # verification has its own, larger limit
    async with api.client(ip="192.0.2.201") as http:  # another address is not held back
        assert (
            await http.post("/voters/registrations", json={"email": _address("ok")})
        ).status_code == 202


async def test_vote_rate_limit_per_voter_and_per_ip(api: Api, keys: Keys) -> None:
    def bearer(subject: str) -> dict[str, str]:
        token = sign_dev_token(keys.idp_private, subject=subject, roles=[Role.VOTER])
        return {"Authorization": f"Bearer {token}"}

    first, second = bearer(f"v1-{uuid.uuid4().hex}"), bearer(f"v2-{uuid.uuid4().hex}")
    async with api.client(ip="192.0.2.50") as http:
        statuses = [
            (await http.post("/test/admitted-vote", headers=first)).status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        refused = await http.post("/test/admitted-vote", headers=first)
        assert refused.json()["limit"] == "votes-voter"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # The IP has now been counted 5 times (5/minute): a second voter there is held back too.
        held = await http.post("/test/admitted-vote", headers=second)
        assert held.status_code == 429
        assert held.json()["limit"] == "votes-ip"
    async with api.client(ip="192.0.2.51") as http:
        assert (await http.post("/test/admitted-vote", headers=second)).status_code == 200
        assert (await http.post("/test/admitted-vote")).status_code == 401


async def test_an_ipv6_client_is_limited_by_its_64_block_not_each_address(
    api: Api, keys: Keys
) -> None:
    """A phone or household gets a /64 and can take a new address in it at will."""

    def bearer() -> dict[str, str]:
        token = sign_dev_token(keys.idp_private, subject=uuid.uuid4().hex, roles=[Role.VOTER])
        return {"Authorization": f"Bearer {token}"}

    statuses = []
    for host in range(1, 7):  # 5/minute per address: the sixth address of the block is held
        async with api.client(ip=f"2001:db8:7:9::{host}") as http:
            statuses.append((await http.post("/test/admitted-vote", headers=bearer())).status_code)
    assert statuses == [200, 200, 200, 200, 200, 429]
    async with api.client(ip="2001:db8:7:a::1") as http:  # the next /64: someone else
        assert (await http.post("/test/admitted-vote", headers=bearer())).status_code == 200


async def test_limits_can_be_switched_off(
    mongo_uri: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> None:
    async with (
        voting_api(mongo_uri, mongo_db_prefix, keys, sink, rate_limits_enabled=False) as unlimited,
        unlimited.client(ip="192.0.2.99") as http,
    ):
        token = sign_dev_token(keys.idp_private, subject="bench-voter", roles=[Role.VOTER])
        for _ in range(8):
            answer = await http.post(
                "/test/admitted-vote", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200
        assert await unlimited.app.state.resources.db["rate_limits"].count_documents({}) == 0


# --- the bot check -------------------------------------------------------------------------------


async def test_the_bot_check_is_off_by_default(api: Api) -> None:
    async with api.client() as http:
        answer = await http.get("/voters/bot-challenge")
    assert answer.json() == {
        "enabled": False,
        "kind": None,
        "challenge": None,
        "difficulty": None,
        "expires_at": None,
        "header": None,
        "how": None,
    }


async def test_with_proof_of_work_a_solved_challenge_is_needed_and_works_once(
    mongo_uri: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> None:
    address = _address("pow")
    async with (
        voting_api(
            mongo_uri,
            mongo_db_prefix,
            keys,
            sink,
            bot_check="proof-of-work",
            bot_check_difficulty=10,
        ) as guarded,
        guarded.client() as http,
    ):
        missing = await http.post("/voters/registrations", json={"email": address})
        assert missing.status_code == 428
        assert missing.json()["code"] == "bot-check-required"
        offer = (await http.get("/voters/bot-challenge")).json()
        assert offer["enabled"] is True
        assert offer["difficulty"] == 10
        proof = f"{offer['challenge']}:{solve(offer['challenge'], offer['difficulty'])}"
        passed = await http.post(
            "/voters/registrations", json={"email": address}, headers={offer["header"]: proof}
        )
        assert passed.status_code == 202, passed.text
        replay = await http.post(
            "/voters/registrations", json={"email": address}, headers={"X-Bot-Proof": proof}
        )
        assert replay.status_code == 403
        assert "used already" in replay.json()["detail"]
        forged = await http.post(
            "/voters/registrations",
            json={"email": address},
            headers={"X-Bot-Proof": f"{offer['challenge']}:nonce"},
        )
        assert forged.status_code == 403

        voter = sign_dev_token(keys.idp_private, subject="pow-voter", roles=[Role.VOTER])
        bearer = {"Authorization": f"Bearer {voter}"}
        unproven_vote = await http.post("/test/admitted-vote", headers=bearer)
        assert unproven_vote.status_code == 428
        offer = (await http.get("/voters/bot-challenge")).json()
        proof = f"{offer['challenge']}:{solve(offer['challenge'], offer['difficulty'])}"
        proven_vote = await http.post(
            "/test/admitted-vote", headers=bearer | {offer["header"]: proof}
        )
        assert proven_vote.status_code == 200, proven_vote.text
        anonymous = await http.post("/test/admitted-vote", headers={offer["header"]: proof})
        assert anonymous.status_code == 401, "who votes is asked before the proof"
    await _code_sent_to(sink, address)


# --- when things are not there -------------------------------------------------------------------


async def test_a_mail_server_that_is_down_gets_503_and_no_lockout(
    mongo_uri: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> None:
    address = _address("down")
    async with (
        voting_api(
            mongo_uri, mongo_db_prefix, keys, sink, smtp_port=free_port(), smtp_timeout_s=2.0
        ) as broken,
        broken.client() as http,
    ):
        answers = [
            await http.post("/voters/registrations/resend", json={"email": address})
            for _ in range(2)
        ]
        assert [a.status_code for a in answers] == [503, 503]  # never "wait a minute"
        assert answers[0].json()["code"] == "mail-not-sent"
        assert await broken.app.state.resources.db["voter_registrations"].count_documents({}) == 0


async def test_without_a_voter_key_sign_up_is_off_and_idp_voters_still_vote(
    mongo_uri: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> None:
    async with (
        voting_api(
            mongo_uri, mongo_db_prefix, keys, sink, voter_token_private_key_file=None
        ) as plain,
        plain.client() as http,
    ):
        answer = await http.post("/voters/registrations", json={"email": _address("off")})
        assert answer.status_code == 503
        assert answer.json()["code"] == "voter-sign-up-unavailable"
        voter = sign_dev_token(keys.idp_private, subject="idp-voter-2", roles=[Role.VOTER])
        mine = await http.get(MY_VOTES, headers={"Authorization": f"Bearer {voter}"})
        assert mine.status_code == 200


# --- the limiter's storages on the real mongod ---------------------------------------------------


async def test_a_window_counts_then_starts_again_when_it_expires(db: Database) -> None:
    storage = MongoRateLimitStorage(db["rate_limits"])
    assert [await storage.incr("k", expiry=1) for _ in range(3)] == [1, 2, 3]
    assert await storage.get("k") == 3
    assert 0 < await storage.get_expiry("k") - time.time() <= 1.5
    counts = await asyncio.gather(*(storage.incr("k", expiry=1) for _ in range(20)))
    assert sorted(counts) == list(range(4, 24))  # atomic under concurrency
    await asyncio.sleep(1.2)
    assert await storage.get("k") == 0
    assert await storage.incr("k", expiry=1) == 1


async def test_batched_counts_are_shared_between_replicas(db: Database) -> None:
    first = BatchedMongoRateLimitStorage(db["rate_limits"], sync_interval_s=0)
    second = BatchedMongoRateLimitStorage(db["rate_limits"], sync_interval_s=0)
    assert [await first.incr("voter", expiry=60) for _ in range(3)] == [1, 2, 3]
    assert await second.incr("voter", expiry=60) == 4  # it wrote its hit and read the others'
    assert await first.incr("voter", expiry=60) == 5
    stored = await db["rate_limits"].find_one({"_id": "voter"})
    assert stored is not None
    assert stored["count"] == 5
    slow = BatchedMongoRateLimitStorage(db["rate_limits"], sync_interval_s=3600)
    assert [await slow.incr("other", expiry=60) for _ in range(3)] == [1, 2, 3]  # in memory
    assert await db["rate_limits"].find_one({"_id": "other"}) is None
    await slow.sync()
    assert (await db["rate_limits"].find_one({"_id": "other"}) or {}).get("count") == 3


# --- international input and forged input -------------------------------------------------------


async def test_a_code_typed_with_arabic_or_full_width_digits_is_the_same_code(
    api: Api, sink: SmtpSink
) -> None:
    address = _address("amal")
    async with api.client() as http:
        assert (await http.post("/voters/registrations", json={"email": address})).is_success
        code = await _code_sent_to(sink, address)
        arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in code)

        verified = await http.post(
            "/voters/verification", json={"email": address, "code": arabic_indic}
        )

    assert verified.status_code == 200, verified.text
    assert verified.json()["token"]


async def test_an_international_domain_gets_its_code_at_the_ascii_form(
    api: Api, sink: SmtpSink
) -> None:
    """Many relays do not speak SMTPUTF8: a domain in another script goes out as punycode."""
    local = f"vera.{uuid.uuid4().hex[:8]}"
    async with api.client() as http:
        asked = await http.post("/voters/registrations", json={"email": f"{local}@bücher.de"})

    assert asked.status_code == 202, asked.text
    await _code_sent_to(sink, f"{local}@xn--bcher-kva.de")


async def test_a_forged_token_nested_a_thousand_deep_is_refused_not_a_500(api: Api) -> None:
    payload = base64.urlsafe_b64encode(b"[" * 1000 + b"]" * 1000).decode().rstrip("=")
    forged = f"eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln"
    async with api.client() as http:
        answer = await http.post(
            "/test/admitted-vote", headers={"Authorization": f"Bearer {forged}"}
        )

    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == PROBLEM


async def test_a_bot_proof_that_is_not_ascii_is_refused_not_a_500(
    mongo_uri: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> None:
    async with (
        voting_api(
            mongo_uri,
            mongo_db_prefix,
            keys,
            sink,
            bot_check="proof-of-work",
            bot_check_difficulty=1,
        ) as guarded,
        guarded.client() as http,
    ):
        offer = (await http.get("/voters/bot-challenge")).json()
        forged = ".".join([*offer["challenge"].split(".")[:4], "é" * 5]) + ":abc"
        answer = await http.post(
            "/voters/registrations",
            json={"email": _address("bot")},
            headers={offer["header"]: forged.encode("latin-1")},
        )

    assert answer.status_code == 403, answer.text
    assert answer.json()["code"] == "bot-check-failed"


# --- answers that say what happened -------------------------------------------------------------
# Sign-up answers that say what happened, on the real mongod and a real SMTP server: a code sent
# twice (a double-submitted form, a retry, concurrent requests) signs in once and the others are
# told it was used; asking for a code while the last one is locked by wrong codes says when a new
# one can come, instead of "a code is on its way" with nothing sent.


async def test_a_code_sent_twice_signs_in_once_and_the_other_is_told_it_was_used(
    api: Api, sink: SmtpSink
) -> None:
    address = _address("double-submit")
    async with api.client() as http:
        await http.post("/voters/registrations", json={"email": address})
        code = await _code_sent_to(sink, address)
        body = {"email": address, "code": code}
        answers = await asyncio.gather(
            *(http.post("/voters/verification", json=body) for _ in range(3))
        )
        retried = await http.post("/voters/verification", json=body)

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409, 409], [a.text for a in answers]
    for refused in [a for a in answers if a.status_code == 409] + [retried]:
        assert refused.status_code == 409
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["code"] == "code-already-used"
        assert "already used to sign in" in refused.json()["detail"]
    registrations = api.app.state.resources.db["voter_registrations"]
    stored = await registrations.find({"used_at": {"$exists": True}}).to_list()
    assert stored, "the used code is remembered until it would have expired …"
    assert all(address not in str(d) and "delivery_address" not in d for d in stored), (
        "… without the address"
    )


async def test_a_new_code_can_be_asked_for_at_once_after_signing_in(
    api: Api, sink: SmtpSink
) -> None:
    address = _address("other-device")
    async with api.client() as http:
        await http.post("/voters/registrations", json={"email": address})
        first = await http.post(
            "/voters/verification",
            json={"email": address, "code": await _code_sent_to(sink, address)},
        )
        assert first.status_code == 200
        asked = await http.post("/voters/registrations", json={"email": address})
        assert asked.status_code == 202
        mails = await asyncio.to_thread(sink.wait_for, address, count=2, timeout_s=10)
        assert len(mails) == 2, "the code was sent at once"


async def test_asking_while_the_code_is_locked_says_when_a_new_one_can_come(
    api: Api, sink: SmtpSink
) -> None:
    address = _address("locked")
    async with api.client() as http:
        await http.post("/voters/registrations", json={"email": address})
        code = await _code_sent_to(sink, address)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        for _ in range(5):
            await http.post("/voters/verification", json={"email": address, "code": wrong})

        asked = await http.post("/voters/registrations", json={"email": address})

    assert asked.status_code == 429, asked.text
    assert asked.headers["content-type"] == PROBLEM
    assert asked.json()["code"] == "code-resend-too-soon"
    assert "locked" in asked.json()["detail"]
    assert 1 <= int(asked.headers["Retry-After"]) <= 60
    await asyncio.sleep(0.3)
    assert len(sink.messages(address)) == 1, "and indeed nothing was sent"
