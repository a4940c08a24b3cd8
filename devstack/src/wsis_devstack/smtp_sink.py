"""A local SMTP sink for development and tests: the voting service's codes, readable by a person.

A real SMTP server (aiosmtpd, on its own thread and event loop) accepts every message for every
recipient and delivers none: it keeps the last ones in memory. A small HTTP server shows them:

- `GET /` — the last messages as a plain page (newest first), the codes easy to spot;
- `GET /messages` — the same as JSON; `?to=<address>` keeps those to one recipient.

It binds to 127.0.0.1 only: what it shows is whatever the services sent, addresses included.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class SunkMail:
    received_at: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str

    def public(self) -> dict[str, Any]:
        return asdict(self) | {"received_at": self.received_at.isoformat()}


class _Mailbox:
    def __init__(self, keep: int) -> None:
        self._messages: deque[SunkMail] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    def add(self, mail: SunkMail) -> None:
        with self._arrived:
            self._messages.append(mail)
            self._arrived.notify_all()

    def newest_first(self, to: str | None = None) -> list[SunkMail]:
        with self._lock:
            found = list(reversed(self._messages))
        if to is None:
            return found
        wanted = to.strip().lower()
        return [m for m in found if wanted in (r.lower() for r in m.recipients)]

    def wait_for(self, to: str, count: int, timeout_s: float) -> list[SunkMail]:
        with self._arrived:
            self._arrived.wait_for(
                lambda: len(self._matching(to)) >= count,
                timeout=timeout_s,
            )
        return self.newest_first(to)

    def _matching(self, to: str) -> list[SunkMail]:
        wanted = to.strip().lower()
        return [m for m in self._messages if wanted in (r.lower() for r in m.recipients)]


class _Handler:
    def __init__(self, mailbox: _Mailbox) -> None:
        self._mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        self._mailbox.add(
            SunkMail(
                received_at=datetime.now(UTC),
                sender=str(envelope.mail_from or ""),
                recipients=tuple(str(r) for r in envelope.rcpt_tos),
                subject=str(message.get("Subject", "")),
                text=str(text).replace("\r\n", "\n"),
            )
        )
        return "250 Message accepted (kept by the WSIS dev SMTP sink, not delivered)"


class SmtpSink:
    """The SMTP server and its HTTP page; `start()`/`stop()`, or use as a context manager."""

    def __init__(
        self,
        *,
        smtp_port: int,
        http_port: int | None = None,
        host: str = "127.0.0.1",
        keep: int = 200,
    ) -> None:
        self.host = host
        self.smtp_port = smtp_port
        self.http_port = http_port
        self._mailbox = _Mailbox(keep)
        self._controller = Controller(
            _Handler(self._mailbox), hostname=host, port=smtp_port, ready_timeout=10.0
        )
        self._http: ThreadingHTTPServer | None = None
        self._http_thread: threading.Thread | None = None

    @property
    def url(self) -> str | None:
        return f"http://{self.host}:{self.http_port}/" if self.http_port is not None else None

    def start(self) -> None:
        self._controller.start()
        if self.http_port is not None:
            self._http = ThreadingHTTPServer((self.host, self.http_port), self._page_handler())
            self._http.daemon_threads = True
            self._http_thread = threading.Thread(
                target=self._http.serve_forever, name="smtp-sink-http", daemon=True
            )
            self._http_thread.start()

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        self._controller.stop()

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def messages(self, to: str | None = None) -> list[SunkMail]:
        """The messages kept, newest first (those to `to` only, if given)."""
        return self._mailbox.newest_first(to)

    def wait_for(self, to: str, *, count: int = 1, timeout_s: float = 10.0) -> list[SunkMail]:
        """Block until `count` messages to `to` arrived (or the time is up); newest first."""
        return self._mailbox.wait_for(to, count, timeout_s)

    def _page_handler(self) -> type[BaseHTTPRequestHandler]:
        mailbox = self._mailbox

        class Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                to = parse_qs(url.query).get("to", [None])[0]
                found = mailbox.newest_first(to)
                if url.path == "/messages":
                    body = json.dumps([m.public() for m in found], indent=2).encode()
                    self._send(200, "application/json", body)
                elif url.path == "/":
                    self._send(200, "text/html; charset=utf-8", _page(found).encode())
                else:
                    self._send(404, "text/plain", b"not found: try / or /messages\n")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the page shows addresses

        return Page


def _page(messages: list[SunkMail]) -> str:
    items = "\n".join(
        "<article><h2>{subject}</h2><p><b>to</b> {to} · <b>at</b> {at}</p><pre>{text}</pre>"
        "</article>".format(
            subject=html.escape(m.subject),
            to=html.escape(", ".join(m.recipients)),
            at=m.received_at.strftime("%H:%M:%S UTC"),
            text=html.escape(m.text),
        )
        for m in messages
    )
    return (
        "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=5>"
        "<title>WSIS dev mail</title><style>body{font-family:sans-serif;max-width:50em;"
        "margin:2em auto}article{border-top:1px solid #ccc}pre{font-size:1.1em}</style>"
        f"<h1>Mail sent by the local WSIS services ({len(messages)})</h1>"
        "<p>Nothing here was delivered. JSON: <a href=/messages>/messages</a>"
        " (<code>?to=address</code>). The page reloads every 5 s.</p>"
        f"{items or '<p>No mail yet.</p>'}"
    )
