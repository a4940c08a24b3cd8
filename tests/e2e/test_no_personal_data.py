"""No personal data in the logs or on the topics, over a whole flow through all four services.

A project team submits an entry with a contact email, an expert with an email joins the review,
the entry is nominated, a member of the public signs up to vote with their email address and the
code mailed to them (a wrong code first), and votes. Then everything the platform wrote is read:
every service's log (structlog JSON lines, the process' stdout and stderr) and every message of
every topic of the run (values, keys, headers; dead-letter topics included). None may hold the
addresses (or their local parts), the code, or a bearer token (or its signature).
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.e2e.conftest import SERVICES, Platform
from tests.integration.helpers import eventually, read_topic

pytestmark = pytest.mark.e2e

YEAR: Final = 2046
CATEGORY: Final = "C9"
TAG: Final = uuid.uuid4().hex[:10]
VOTER_ADDRESS: Final = f"vera.{TAG}@example.org"
CONTACT_ADDRESS: Final = f"amina.{TAG}@schools.example.org"
REVIEWER_ADDRESS: Final = f"kenji.{TAG}@keio.example.org"


def _schedule() -> dict[str, str]:
    start = datetime(YEAR, 1, 10, tzinfo=UTC)
    days = {
        "submission_opens": 0,
        "submission_closes": 30,
        "review_closes": 60,
        "voting_opens": 61,
        "voting_closes": 90,
        "results_at": 100,
    }
    return {name: (start + timedelta(days=d)).isoformat() for name, d in days.items()}


def _entry() -> dict[str, Any]:
    return {
        "title": f"Community radio for every village {TAG}",
        "short_description": " ".join(["Village radio stations carry lessons and news."] * 25),
        "full_description": "How the radio stations were built and who runs them.",
        "category": CATEGORY,
        "sdgs": [4, 16],
        "country": "SN",
        "stakeholder_type": "civil society",
        "organisation_name": "Radio for All",
        "impact_qualitative": "Forty villages hear lessons in their own language.",
        "beneficiaries": "60,000 listeners",
        "start_date": "2024-03-01",
        "project_status": "completed",
        "contact_name": "Amina Diallo",
        "contact_email": CONTACT_ADDRESS,
    }


def _log_file(pid: int) -> Path:
    """Where the platform fixture sends a service's output (its stdout, file descriptor 1)."""
    return Path(os.readlink(f"/proc/{pid}/fd/1"))


async def _topics_of_the_run(bootstrap: str, prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return sorted(t for t in await admin.list_topics() if t.startswith(prefix))
    finally:
        await admin.close()


def _variants(secret: str) -> set[str]:
    """A secret as it might appear: as is, URL-encoded, JSON-escaped, the local part of an
    address, the signature of a token."""
    found = {secret, secret.replace("@", "%40"), secret.replace("/", "\\/")}
    if "@" in secret:
        found.add(secret.split("@")[0])
    if secret.count(".") == 2 and len(secret) > 100:  # a JWT: its signature alone says enough
        found.add(secret.rsplit(".", 1)[1])
    return found


def _appears(secret: str, text: str) -> bool:
    if not secret.isdigit():
        return secret in text
    # A code: six digits standing alone, not the microseconds of a timestamp or part of an id.
    return re.search(rf"(?<![0-9A-Za-z.]){secret}(?![0-9A-Za-z])", text) is not None


async def test_no_address_code_or_token_in_logs_or_topics(
    platform: Platform, kafka_bootstrap: str, topic_prefix: str
) -> None:
    assert platform.mail is not None
    admin = platform.headers(roles=["admin"], sub="admin-pd")
    team = platform.headers(roles=["submitter"], sub="team-pd", org=f"org-{TAG}")
    chair = platform.headers(roles=["chair"], sub="chair-pd")
    submissions, review = platform.url("submissions"), platform.url("review")
    voting = platform.url("voting")
    secrets: dict[str, str] = {
        "voter address": VOTER_ADDRESS,
        "contact address": CONTACT_ADDRESS,
        "reviewer address": REVIEWER_ADDRESS,
        **{
            f"{who} token": headers["Authorization"].removeprefix("Bearer ")
            for who, headers in (("admin", admin), ("team", team), ("chair", chair))
        },
    }

    async with httpx.AsyncClient(timeout=15) as http:

        async def phase(name: str) -> None:
            r = await http.post(
                f"{submissions}/editions/{YEAR}/phase", json={"phase": name}, headers=admin
            )
            assert r.status_code == 200, r.text

        r = await http.post(
            f"{submissions}/editions",
            json={"year": YEAR, "title": f"WSIS Prizes {YEAR}", "schedule": _schedule()},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        await phase("submission")

        # A team submits an entry with its contact's address.
        r = await http.post(f"{submissions}/editions/{YEAR}/entries", json=_entry(), headers=team)
        assert r.status_code == 201, r.text
        entry_id = r.json()["entry_id"]
        assert r.json()["content"]["contact_email"] == CONTACT_ADDRESS
        r = await http.post(f"{submissions}/entries/{entry_id}/submit", headers=team)
        assert r.status_code == 200, r.text

        # An expert with an address joins; the chair finds the entry eligible and nominates it.
        r = await http.post(
            f"{review}/reviewers",
            json={
                "reviewer_id": f"kenji-{TAG}",
                "name": "Kenji Sato",
                "email": REVIEWER_ADDRESS,
                "organisation": "Keio University",
                "country": "JP",
                "categories": [CATEGORY],
            },
            headers=chair,
        )
        assert r.status_code == 201, r.text

        async def candidate() -> bool:
            r = await http.get(f"{review}/editions/{YEAR}/candidates", headers=chair)
            return any(c["entry"]["entry_id"] == entry_id for c in r.json())

        await eventually(candidate, what="review to receive the entry")
        await phase("review")
        for decision, body in (
            ("eligibility", {"eligible": True}),
            ("nomination", {"nominated": True}),
        ):

            async def decided(decision: str = decision, body: dict[str, Any] = body) -> bool:
                r = await http.post(
                    f"{review}/candidates/{entry_id}/{decision}", json=body, headers=chair
                )
                return r.status_code == 200

            await eventually(decided, what=f"the chair's {decision} decision")

        async def on_ballot() -> bool:
            r = await http.get(f"{voting}/editions/{YEAR}/ballot")
            return any(n["entry_id"] == entry_id for c in r.json() for n in c["nominees"])

        await eventually(on_ballot, what="the nominee to reach the ballot")
        await phase("voting")

        # A member of the public signs up (a wrong code first) and votes.
        r = await http.post(f"{voting}/voters/registrations", json={"email": VOTER_ADDRESS})
        assert r.status_code == 202, r.text
        mails = await asyncio.to_thread(platform.mail.wait_for, VOTER_ADDRESS, timeout_s=15)
        found = re.search(r"\b(\d{6})\b", mails[0].text)
        assert found, mails[0].text
        code = found.group(1)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        r = await http.post(
            f"{voting}/voters/verification", json={"email": VOTER_ADDRESS, "code": wrong}
        )
        assert r.status_code == 400, r.text
        r = await http.post(
            f"{voting}/voters/verification", json={"email": VOTER_ADDRESS, "code": code}
        )
        assert r.status_code == 200, r.text
        voter_token = r.json()["token"]
        voter = {"Authorization": f"Bearer {voter_token}"}

        async def voted() -> bool:
            r = await http.post(
                f"{voting}/editions/{YEAR}/votes",
                json={"category": CATEGORY, "entry_id": entry_id},
                headers=voter,
            )
            assert r.status_code in (201, 409, 422), r.text
            # 409 phase-closed or 422: the voting service has not seen the phase or the
            # nomination yet (the events are on their way, its ballot cache lives a second).
            return r.status_code == 201 or r.json()["code"] == "already-voted"

        await eventually(voted, what="the vote to be accepted")

        async def counted() -> bool:
            r = await http.get(f"{voting}/editions/{YEAR}/results/{CATEGORY}", headers=admin)
            return any(n["votes"] == 1 for n in r.json()["nominees"])

        await eventually(counted, what="the vote to be tallied (it crossed Kafka)")

    secrets |= {"code": code, "wrong code": wrong, "voter token": voter_token}

    # Everything the services logged …
    logs = {service: _log_file(platform.processes[service].pid) for service in SERVICES}
    texts = {service: path.read_text(errors="replace") for service, path in logs.items()}
    assert '"event": "voters.code.sent"' in texts["voting"], "the sign-up left no log line"
    assert '"event": "voters.verified"' in texts["voting"]
    # … and every message of every topic of the run.
    prefix = f"{topic_prefix}e2e."
    topics = await _topics_of_the_run(kafka_bootstrap, prefix)
    assert f"{prefix}wsis.votes.v1" in topics, topics
    messages: dict[str, str] = {}
    for topic in topics:
        parts = []
        for record in await read_topic(kafka_bootstrap, topic):
            parts.append((record.key or b"").decode(errors="replace"))
            parts.append((record.value or b"").decode(errors="replace"))
            parts += [name + "=" + value.decode(errors="replace") for name, value in record.headers]
        messages[topic] = "\n".join(parts)
    everything = "\n".join(messages.values())
    assert entry_id in messages[f"{prefix}wsis.submissions.v1"], "the submission is not there"
    assert everything.count(entry_id) > 3, "the flow's events are not all there"

    places = [*((f"the {s} log", t) for s, t in texts.items()), *messages.items()]
    leaks = [
        f"the {what} ({variant!r}) in {where}"
        for what, secret in secrets.items()
        for variant in _variants(secret)
        for where, text in places
        if _appears(variant, text)
    ]
    assert not leaks, "personal data found:\n" + "\n".join(leaks) + f"\nlogs: {logs}"
