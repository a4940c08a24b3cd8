from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from wsis_shared.settings import ServiceSettings


class SubmissionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WSIS_SUBMISSIONS_", extra="ignore")
    service_name: ClassVar[str] = "submissions"
    port: int = 8001
