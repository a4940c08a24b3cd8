from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from wsis_shared.settings import ServiceSettings


class VotingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WSIS_VOTING_", extra="ignore")
    service_name: ClassVar[str] = "voting"
    port: int = Field(default=8003, ge=1, le=65535)
    # Keys the voter pseudonyms on wsis.votes.v1; every replica must share it. Set it in production.
    voter_pseudonym_key: SecretStr = SecretStr("dev-only-voter-pseudonym-key")

    # --- voters: sign-up by email code, voter tokens, abuse limits (see README "Voters") ---
    # RSA private key (PEM) signing the voting service's own voter tokens; unset: sign-up is off
    # (503) and only the identity provider's voter tokens are accepted.
    voter_token_private_key_file: Path | None = None
    voter_token_issuer: str = "wsis-voting"  # noqa: S105 - a name, not a secret
    voter_token_ttl_s: int = 7 * 24 * 3600
    # Keys the stored hashes of addresses and codes, rate-limit keys and bot challenges; every
    # replica must share it, and changing it forgets which addresses are voters. Set it in
    # production.
    voter_hash_key: SecretStr = SecretStr("dev-only-voter-hash-key-change-me")
    voter_code_resend_after_s: int = 60
    voter_code_max_sends: int = 5
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # auto: STARTTLS when the server offers it; production should say starttls (or tls).
    smtp_security: Literal["auto", "starttls", "tls", "none"] = "auto"
    smtp_timeout_s: float = 10.0
    mail_from: str = "WSIS Prizes <no-reply@wsis.localhost>"
    # Limits in the `limits` notation ("5/hour;10/day"); off for benchmarks.
    rate_limits_enabled: bool = True
    rate_limit_codes_per_address: str = "5/hour;10/day"
    rate_limit_codes_per_ip: str = "30/minute;1000/day"
    rate_limit_verifications_per_ip: str = "60/minute"
    rate_limit_votes_per_voter: str = "60/minute"
    rate_limit_votes_per_ip: str = "600/minute"
    bot_check: Literal["off", "proof-of-work"] = "off"
    bot_check_difficulty: int = 18
    bot_challenge_ttl_s: int = 300

    @field_validator(
        "rate_limit_codes_per_address",
        "rate_limit_codes_per_ip",
        "rate_limit_verifications_per_ip",
        "rate_limit_votes_per_voter",
        "rate_limit_votes_per_ip",
    )
    @classmethod
    def _parses_as_limits(cls, value: str) -> str:
        parse_many(value)  # ValueError names the string that does not parse
        return value

    @model_validator(mode="after")
    def _voter_tokens_have_their_own_issuer(self) -> VotingSettings:
        if self.voter_token_issuer == self.jwt_issuer:
            raise ValueError("voter_token_issuer must differ from the identity provider's issuer")
        return self

    # --- end of voters ---
