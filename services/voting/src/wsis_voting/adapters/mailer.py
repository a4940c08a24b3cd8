"""Sending the one-time codes: SMTP to a configurable server with aiosmtplib (asyncio).

The address and the code go into the message and nowhere else: nothing here logs them, and a
failure is reported by its kind only (an SMTP error's text can quote the recipient).
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

from wsis_shared.logging import get_logger
from wsis_voting.domain.voters import MailNotSent

log = get_logger(__name__)

SmtpSecurity = Literal["auto", "starttls", "tls", "none"]


def code_message(*, sender: str, to: str, code: str, expires_at: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Your WSIS Prizes voting code"
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain=_domain_of(sender))
    message["Auto-Submitted"] = "auto-generated"
    minutes = max(1, round((expires_at - datetime.now(expires_at.tzinfo)).total_seconds() / 60))
    message.set_content(
        f"Your code to vote in the WSIS Prizes: {code}\n"
        "\n"
        f"Enter it where you asked for it. It works once, for the next {minutes} minutes\n"
        f"(until {expires_at:%H:%M} UTC).\n"
        "\n"
        "If you did not ask for it, ignore this message: without the code nothing happens.\n"
    )
    return message


def _domain_of(sender: str) -> str:
    _, address = email.utils.parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class SmtpMailer:
    """The `CodeMailer` of the service layer, over SMTP."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    security: SmtpSecurity = "auto"
    timeout_s: float = 10.0

    async def send_code(self, *, to: str, code: str, expires_at: datetime) -> None:
        message = code_message(sender=self.sender, to=to, code=code, expires_at=expires_at)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.security == "tls",
                start_tls={"auto": None, "starttls": True, "tls": False, "none": False}[
                    self.security
                ],
                timeout=self.timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            log.warning("voters.mail.failed", error=type(exc).__name__, smtp_host=self.host)
            raise MailNotSent(
                "the mail server did not take the message with your code: please try again "
                "in a minute"
            ) from None
