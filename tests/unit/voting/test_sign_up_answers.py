"""Sign-up answers that say what happened: a code entered again after it signed the voter in,
and a request for a code while the last one is locked by wrong entries."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.unit.voting.test_voters import NOW, POLICY, Codes, Outbox, Runner, _ask, _verify, _wrong
from wsis_voting.domain.voters import (
    CodeAlreadyUsed,
    CodeExpired,
    CodeIncorrect,
    CodeLocked,
    CodeResendRefused,
)


async def test_a_code_entered_again_after_it_signed_in_is_refused_as_used() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail)
    code = mail.last_code
    await _verify(runner, code, at=NOW + timedelta(minutes=1))

    with pytest.raises(CodeAlreadyUsed) as used:  # a form sent twice, a retried request
        await _verify(runner, code, at=NOW + timedelta(minutes=2))

    assert (used.value.status, used.value.code) == (409, "code-already-used")
    assert "already used to sign in" in used.value.detail
    assert "ask for a new code" in used.value.detail
    assert len(runner.state.voters) == 1, "it signs nobody in again"
    stored = json.dumps([u.model_dump(mode="json") for u in runner.state.used_codes.values()])
    assert "example.org" not in stored, "no address"
    assert code not in stored, "only the code's keyed hash"
    assert runner.state.registrations == {}


async def test_a_used_code_is_forgotten_when_it_would_have_expired() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail)
    await _verify(runner, mail.last_code)
    with pytest.raises(CodeExpired):
        await _verify(runner, mail.last_code, at=NOW + timedelta(minutes=10))


async def test_another_code_after_a_used_one_is_no_code_at_all() -> None:
    runner, mail = Runner(), Outbox()
    await _ask(runner, mail)
    await _verify(runner, mail.last_code)
    with pytest.raises(CodeExpired):
        await _verify(runner, _wrong(mail.last_code), at=NOW + timedelta(seconds=5))


async def test_a_new_code_may_be_asked_for_at_once_after_signing_in() -> None:
    """Another device: the used code holds nothing back, and the new code works."""
    runner, mail, codes = Runner(), Outbox(), Codes()
    await _ask(runner, mail, codes=codes)
    first, _ = await _verify(runner, mail.last_code, at=NOW + timedelta(seconds=5))
    assert await _ask(runner, mail, at=NOW + timedelta(seconds=10), codes=codes)
    again, created = await _verify(runner, mail.last_code, at=NOW + timedelta(seconds=20))
    assert (again.voter_id, created) == (first.voter_id, False)
    with pytest.raises(CodeAlreadyUsed):
        await _verify(runner, mail.last_code, at=NOW + timedelta(seconds=21))


async def _lock(runner: Runner, right: str) -> None:
    for _ in range(POLICY.max_attempts):
        with pytest.raises((CodeIncorrect, CodeLocked)):
            await _verify(runner, _wrong(right), at=NOW + timedelta(seconds=10))


async def test_asking_for_a_code_while_the_last_is_locked_says_when_a_new_one_can_come() -> None:
    runner, mail, codes = Runner(), Outbox(), Codes()
    await _ask(runner, mail, codes=codes)
    await _lock(runner, mail.last_code)

    with pytest.raises(CodeResendRefused) as refused:  # not "a code is on its way"
        await _ask(runner, mail, at=NOW + timedelta(seconds=20), codes=codes)

    assert refused.value.status == 429
    assert refused.value.retry_after_s == 40
    assert "locked" in refused.value.detail
    assert "40 s" in refused.value.detail
    assert len(mail.sent) == 1
    assert await _ask(runner, mail, at=NOW + timedelta(seconds=60), codes=codes)
    voter, _ = await _verify(runner, mail.last_code, at=NOW + timedelta(seconds=61))
    assert voter.voter_id


async def test_locked_with_every_code_sent_says_to_wait_for_the_expiry() -> None:
    runner, mail, codes = Runner(), Outbox(), Codes()
    at = NOW
    await _ask(runner, mail, at=at, codes=codes)
    for _ in range(POLICY.max_sends - 1):
        at += timedelta(minutes=1)
        await _ask(runner, mail, at=at, resend=True, codes=codes)
    await _lock(runner, mail.last_code)

    with pytest.raises(CodeResendRefused) as refused:
        await _ask(runner, mail, at=at + timedelta(minutes=2), codes=codes)

    assert "the last one is locked" in refused.value.detail
    assert refused.value.retry_after_s == 8 * 60
