"""Settings of the web pages, env prefix WSIS_WEB_: where to listen and where the services are."""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
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
    log_format: Literal["json", "console"] = Field(default="json")
    log_level: str = "INFO"
