"""Settings of the web pages, env prefix WSIS_WEB_: where to listen and where the services are."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wsis_shared.settings import TokenCheckSettings


class WebSettings(TokenCheckSettings):
    model_config = SettingsConfigDict(env_prefix="WSIS_WEB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    submissions_url: str = "http://127.0.0.1:8001"
    review_url: str = "http://127.0.0.1:8002"
    voting_url: str = "http://127.0.0.1:8003"
    stocktaking_url: str = "http://127.0.0.1:8004"
    service_timeout_s: float = 10.0
    # Signs the CSRF tokens. A fresh one per process is safe (a page rendered before a restart
    # asks for one more click); set it so that replicas accept each other's forms.
    csrf_secret: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    # Signing in (README "Web pages"). Production: the Ingress's OIDC proxy (oauth2-proxy) signs
    # the person in at `sign_in_url` and hands this app their access token in `token_header`.
    # Development: `make up` sets `dev_sign_in_key_file` and a form lets you be anyone.
    sign_in_url: str | None = None
    token_header: str | None = None
    dev_sign_in_key_file: Path | None = None
    log_format: Literal["json", "console"] = Field(default="json")
    log_level: str = "INFO"
