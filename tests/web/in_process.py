"""The submissions service and the web app in this process, the web app asking the service
through an ASGI transport: for tests of what the web app sends and answers, without ports or a
browser. Forms carry the CSRF token a page would have given."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
from fastapi import FastAPI

from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.vocabulary import Role
from wsis_submissions.app import create_app as submissions_app
from wsis_submissions.settings import SubmissionsSettings
from wsis_web.app import create_app as web_app
from wsis_web.settings import WebSettings

_CSRF_SECRET: Final = "s"
_CSRF_SEED: Final = "seed"
CSRF: Final = hmac.new(_CSRF_SECRET.encode(), _CSRF_SEED.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class InProcess:
    service: FastAPI
    web: FastAPI
    private_key: bytes

    def token(self, subject: str, role: Role, organisation_id: str | None = None) -> str:
        return sign_dev_token(
            self.private_key, subject=subject, roles=[role], organisation_id=organisation_id
        )

    def bearer(
        self, subject: str, role: Role, organisation_id: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, role, organisation_id)}"}

    def browser(
        self, to_service: httpx.AsyncBaseTransport, headers: dict[str, str] | None = None
    ) -> httpx.AsyncClient:
        """A client of the web app, whose calls to the service go through `to_service`; it
        holds the CSRF cookie that `CSRF` matches."""
        self.web.state.site.services.http = httpx.AsyncClient(transport=to_service)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.web),
            base_url="http://web",
            cookies={"wsis_csrf": _CSRF_SEED},
            headers=headers or {},
        )


def submissions_and_web(mongo_uri: str, mongo_db_prefix: str, keys_dir: Path) -> InProcess:
    """Both apps (not started: run them in `LifespanManager`s), on a database of their own."""
    private_key, public_key = ensure_dev_keys(keys_dir)
    service = submissions_app(
        SubmissionsSettings(
            mongo_uri=mongo_uri,
            mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
            jwt_public_key_file=public_key,
        )
    )
    web = web_app(
        WebSettings(
            token_header="X-Token", jwt_public_key_file=public_key, csrf_secret=_CSRF_SECRET
        )
    )
    return InProcess(service, web, private_key.read_bytes())
