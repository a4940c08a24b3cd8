from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from wsis_shared.settings import ServiceSettings


class SubmissionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WSIS_SUBMISSIONS_", extra="ignore")
    service_name: ClassVar[str] = "submissions"
    port: int = Field(default=8001, ge=1, le=65535)
    # Signs reviewers' attachment links; every replica must share it. Set it in production.
    attachment_link_secret: SecretStr = SecretStr("dev-only-attachment-link-secret")
    scheduler_interval_s: float = 5.0
