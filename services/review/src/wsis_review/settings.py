from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wsis_shared.settings import ServiceSettings


class ReviewSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WSIS_REVIEW_", extra="ignore")
    service_name: ClassVar[str] = "review"
    port: int = Field(default=8002, ge=1, le=65535)
