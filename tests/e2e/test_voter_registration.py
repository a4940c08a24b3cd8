"""A member of the public signs up to vote as they would with `make up`: the voting service (a
real process) mails a code over SMTP to the local sink, the code is read from the sink's page,
and the voter token it buys opens the voter's pages."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.e2e


def _code_from_the_mail_page(page_url: str, address: str, timeout_s: float = 15.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        messages = httpx.get(f"{page_url}messages", params={"to": address}, timeout=5).json()
        if messages:
            found = re.search(r"\b(\d{6})\b", messages[0]["text"])
            assert found, messages[0]["text"]
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no mail to the address within {timeout_s}s")


def test_sign_up_by_email_code_and_see_my_votes(platform: Platform) -> None:
    assert platform.mail is not None
    assert platform.mail.url is not None
    voting = platform.url("voting")
    address = f"e2e.{uuid.uuid4().hex[:8]}@example.org"
    with httpx.Client(base_url=voting, timeout=10) as http:
        asked = http.post("/voters/registrations", json={"email": address})
        assert asked.status_code == 202, asked.text
        code = _code_from_the_mail_page(platform.mail.url, address)
        assert "Your code" in httpx.get(platform.mail.url, timeout=5).text

        verified = http.post("/voters/verification", json={"email": address, "code": code})
        assert verified.status_code == 200, verified.text
        token = verified.json()["token"]

        mine = http.get("/editions/2031/my-votes", headers={"Authorization": f"Bearer {token}"})
        assert mine.status_code == 200, mine.text
        # The token is the voting service's: no other service takes it.
        review = http.get(
            f"{platform.url('review')}/editions/2031/candidates",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert review.status_code == 401
