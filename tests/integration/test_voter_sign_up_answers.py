"""Sign-up answers that say what happened, on the real mongod and a real SMTP server: a code sent
twice (a double-submitted form, a retry, concurrent requests) signs in once and the others are
told it was used; asking for a code while the last one is locked by wrong codes says when a new
one can come, instead of "a code is on its way" with nothing sent."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.integration.test_voter_verification import Api, Keys, voting_api
from wsis_devstack.processes import free_ports
from wsis_devstack.smtp_sink import SmtpSink
from wsis_shared.auth import ensure_dev_keys

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


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


@pytest.fixture(scope="module")
async def api(
    mongo_uri: str, mongo_db_prefix: str, keys: Keys, sink: SmtpSink
) -> AsyncIterator[Api]:
    async with voting_api(mongo_uri, mongo_db_prefix, keys, sink) as running:
        yield running


def _address(tag: str) -> str:
    return f"{tag}.{uuid.uuid4().hex[:8]}@example.org"


async def _code(sink: SmtpSink, address: str) -> str:
    [mail] = await asyncio.to_thread(sink.wait_for, address, count=1, timeout_s=10)
    found = re.search(r"\b(\d{6})\b", mail.text)
    assert found, mail.text
    return found.group(1)


async def test_a_code_sent_twice_signs_in_once_and_the_other_is_told_it_was_used(
    api: Api, sink: SmtpSink
) -> None:
    address = _address("double-submit")
    async with api.client() as http:
        await http.post("/voters/registrations", json={"email": address})
        code = await _code(sink, address)
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
    stored = await api.app.state.resources.db["voter_registrations"].find().to_list()
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
            "/voters/verification", json={"email": address, "code": await _code(sink, address)}
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
        code = await _code(sink, address)
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
