from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from wsis_shared.settings import ServiceSettings


class VotingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WSIS_VOTING_", extra="ignore")
    service_name: ClassVar[str] = "voting"
    port: int = 8003
