from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from wsis_shared.settings import ServiceSettings


class VotingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WSIS_VOTING_", extra="ignore")
    service_name: ClassVar[str] = "voting"
    port: int = 8003
    # Keys the voter pseudonyms on wsis.votes.v1; every replica must share it. Set it in production.
    voter_pseudonym_key: SecretStr = SecretStr("dev-only-voter-pseudonym-key")
