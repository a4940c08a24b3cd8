from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from wsis_shared.settings import ServiceSettings


class StocktakingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WSIS_STOCKTAKING_", extra="ignore")
    service_name: ClassVar[str] = "stocktaking"
    port: int = 8004
