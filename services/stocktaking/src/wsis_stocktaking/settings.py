from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from wsis_shared.settings import ServiceSettings


class StocktakingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WSIS_STOCKTAKING_", extra="ignore")
    service_name: ClassVar[str] = "stocktaking"
    port: int = Field(default=8004, ge=1, le=65535)
    # Contributions: the largest document accepted, the most PDF pages read, the longest text.
    contribution_max_bytes: int = 10 * 1024 * 1024
    contribution_max_pdf_pages: int = 300
    contribution_max_text_chars: int = 1_000_000
    # Report jobs: how often an idle worker looks for one, how long a claimed job stays with a
    # worker that stopped renewing it, and how many dead workers a job may outlive.
    report_poll_interval_s: float = 1.0
    report_lease_s: float = 60.0
    report_max_attempts: int = 3
