"""Use cases of voter sign-up: send a one-time code to an address, check it, know the voter.

Asking for a code is the same for a new address and for a voter's known one (a voter signs in
again the same way), so the answer never tells who registered. Mail leaves after the
transaction that recorded the code has committed (a transaction may run twice; a mail must not);
if it cannot leave, the send is taken back so the person can ask again at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from wsis_shared.logging import get_logger
from wsis_shared.uow import UnitOfWorkRunner
from wsis_voting.domain.voters import (
    CheckOutcome,
    CodeCheck,
    CodePolicy,
    EmailAddress,
    MailNotSent,
    PendingRegistration,
    UsedCode,
    Voter,
    VoterKeys,
    address_key,
    generate_code,
    generate_salt,
    new_voter_id,
    refusal,
)

log = get_logger(__name__)


class VoterRepository(Protocol):
    async def by_address(self, address_key: str) -> Voter | None: ...
    async def save(self, voter: Voter) -> None: ...


class RegistrationRepository(Protocol):
    async def get(self, address_key: str, now: datetime) -> PendingRegistration | None:
        """The pending registration of the address, unless its code has expired."""

    async def save(self, registration: PendingRegistration) -> None: ...
    async def delete(self, address_key: str) -> None: ...
    async def mark_used(self, used: UsedCode) -> None:
        """Replaces the pending registration — its plain address with it — by its used code."""

    async def used(self, address_key: str, now: datetime) -> UsedCode | None:
        """The address's code that signed a voter in, unless it would have expired by now."""


class VoterUnitOfWork(Protocol):
    @property
    def voters(self) -> VoterRepository: ...
    @property
    def registrations(self) -> RegistrationRepository: ...


VoterRunner = UnitOfWorkRunner[VoterUnitOfWork]


class CodeMailer(Protocol):
    async def send_code(self, *, to: str, code: str, expires_at: datetime) -> None:
        """Raises `MailNotSent` when the mail cannot leave."""


class CodeRequested(BaseModel):
    """The answer to a request for a code: the same whoever the address belongs to."""

    model_config = ConfigDict(frozen=True)

    sent: bool
    code_expires_at: datetime
    resend_not_before: datetime


class _Issued(BaseModel):
    model_config = ConfigDict(frozen=True)

    to: str
    code: str
    digest: str


async def request_code(
    runner: VoterRunner,
    mailer: CodeMailer,
    *,
    address: EmailAddress,
    keys: VoterKeys,
    policy: CodePolicy,
    now: datetime,
    resend: bool,
    new_code: Callable[[], str] = generate_code,
    new_salt: Callable[[], str] = generate_salt,
) -> CodeRequested:
    """Send a code to `address`, starting a registration or replacing the pending code.

    A plain request (`resend=False`) while the last code is younger than the resend interval
    sends nothing and answers as if it had (a double-clicked form must not fail); an explicit
    resend then, a request while the last code is locked by wrong entries (it would answer "on
    its way" and nothing usable would come), or any request once the registration's codes are
    used up, is refused with the seconds to wait (`CodeResendRefused`).
    """
    key = address_key(address, keys)

    async def record(uow: VoterUnitOfWork) -> tuple[PendingRegistration, _Issued | None]:
        code, salt = new_code(), new_salt()
        pending = await uow.registrations.get(key, now)
        if pending is None:
            pending = PendingRegistration.start(
                key=key, address=address, code=code, salt=salt, keys=keys, now=now, policy=policy
            )
        elif pending.can_send_again(now, policy):
            pending.reissue(
                address=address, code=code, salt=salt, keys=keys, now=now, policy=policy
            )
        elif not resend and now < pending.resend_not_before and not pending.locked(policy):
            return pending, None  # asked twice within the interval: the first code stands
        else:
            raise pending.refuse_resend(now, policy)
        await uow.registrations.save(pending)
        return pending, _Issued(to=address.delivery, code=code, digest=pending.code_digest)

    pending, issued = await runner.run(record)
    if issued is not None:
        try:
            await mailer.send_code(
                to=issued.to, code=issued.code, expires_at=pending.code_expires_at
            )
        except MailNotSent:
            await _take_back(runner, key, issued.digest, now)
            raise
        log.info("voters.code.sent", resend=resend, sends=pending.sends)
    else:
        log.info("voters.code.not_resent", reason="resend interval")
    return CodeRequested(
        sent=issued is not None,
        code_expires_at=pending.code_expires_at,
        resend_not_before=pending.resend_not_before,
    )


async def _take_back(runner: VoterRunner, key: str, digest: str, now: datetime) -> None:
    async def work(uow: VoterUnitOfWork) -> None:
        pending = await uow.registrations.get(key, now)
        if pending is None or pending.code_digest != digest:
            return  # a newer code replaced it meanwhile
        if pending.sends <= 1:
            await uow.registrations.delete(key)
        else:
            pending.sending_failed(now)
            await uow.registrations.save(pending)

    await runner.run(work)


async def verify_code(
    runner: VoterRunner,
    *,
    address: EmailAddress,
    code: str,
    keys: VoterKeys,
    policy: CodePolicy,
    now: datetime,
    new_id: Callable[[], str] = new_voter_id,
) -> tuple[Voter, bool]:
    """The voter whose address the code proves (created on first verification) and whether
    they are new. A wrong code counts against the code's attempts even though it is refused:
    the refusal is raised after the attempt has been recorded. A code works once: entered again
    (concurrent or retried requests included: one commits, the others run again and find it
    used) it is refused as used (`CodeAlreadyUsed`), not as expired."""
    key = address_key(address, keys)

    async def work(uow: VoterUnitOfWork) -> tuple[CodeCheck, Voter | None, bool]:
        pending = await uow.registrations.get(key, now)
        if pending is None:
            used = await uow.registrations.used(key, now)
            if used is not None and used.matches(code, keys, now):
                return CodeCheck(outcome=CheckOutcome.USED), None, False
            return CodeCheck(outcome=CheckOutcome.EXPIRED), None, False
        check = pending.check(code, keys, now, policy)
        if check.outcome is CheckOutcome.EXPIRED:
            await uow.registrations.delete(key)
            return check, None, False
        if check.outcome is not CheckOutcome.VERIFIED:
            await uow.registrations.save(pending)
            return check, None, False
        voter = await uow.voters.by_address(key)
        created = voter is None
        if voter is None:
            voter = Voter(
                voter_id=new_id(), address_key=key, registered_at=now, last_verified_at=now
            )
        else:
            voter.last_verified_at = now
        await uow.voters.save(voter)
        await uow.registrations.mark_used(pending.used(now))  # the plain address goes
        return check, voter, created

    check, voter, created = await runner.run(work)
    if voter is None:
        log.info("voters.verification.refused", outcome=str(check.outcome))
        raise refusal(check, policy)
    log.info("voters.verified", voter_id=voter.voter_id, new_voter=created)
    return voter, created
