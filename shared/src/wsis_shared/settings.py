"""Settings every service shares; each service subclasses with its own env prefix.

Shared infrastructure (`WSIS_KAFKA_BOOTSTRAP`, `WSIS_MONGO_URI`, `WSIS_TOPIC_PREFIX`, JWT keys) is
read under the same name by every service, so one environment file configures the whole stack;
what belongs to one service alone is read with that service's prefix (`WSIS_VOTING_PORT`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal, TypeVar

from pydantic import AliasChoices, BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

SettingsT = TypeVar("SettingsT", bound=BaseSettings)


class ConfigurationError(ValueError):
    """The environment does not configure the process: the message names each variable."""


def read_settings(settings_type: type[SettingsT]) -> SettingsT:
    """The settings from the environment; a `ConfigurationError` naming each variable to fix
    (never its value, which may be a secret) when they are not valid."""
    try:
        return settings_type()
    except ValidationError as exc:
        problems = [
            f"{environment_variable(settings_type, str(error['loc'][0]))}: {error['msg']}"
            for error in exc.errors()
        ]
        raise ConfigurationError("; ".join(problems)) from None


def environment_variable(settings_type: type[BaseSettings], name: str) -> str:
    """The variable a setting is read from (`port` of the voting service: `WSIS_VOTING_PORT`)."""
    for field_name, info in settings_type.model_fields.items():
        choices = (
            info.validation_alias.choices if isinstance(info.validation_alias, AliasChoices) else []
        )
        if name != field_name and name not in choices:
            continue
        for choice in choices:
            if isinstance(choice, str) and choice.isupper():
                return choice
        name = field_name
        break
    prefix = str(settings_type.model_config.get("env_prefix", ""))
    return f"{prefix}{name}".upper()


class TokenCheckSettings(BaseSettings):
    """How bearer tokens are verified: the same for every service and for the web pages."""

    jwt_public_key_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("jwt_public_key_file", "WSIS_JWT_PUBLIC_KEY_FILE"),
    )
    jwt_jwks_url: str | None = Field(
        default=None, validation_alias=AliasChoices("jwt_jwks_url", "WSIS_JWT_JWKS_URL")
    )
    jwt_audience: str = Field(
        default="wsis", validation_alias=AliasChoices("jwt_audience", "WSIS_JWT_AUDIENCE")
    )
    jwt_issuer: str = Field(
        default="wsis-dev", validation_alias=AliasChoices("jwt_issuer", "WSIS_JWT_ISSUER")
    )


class ServiceSettings(TokenCheckSettings):
    """Base for `WSIS_<SERVICE>_…` settings; subclasses set `service_name` and `env_prefix`."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)
    service_name: ClassVar[str] = "service"

    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("kafka_bootstrap", "WSIS_KAFKA_BOOTSTRAP"),
    )
    mongo_uri: str = Field(
        default="mongodb://127.0.0.1:27017/?replicaSet=rs0",
        validation_alias=AliasChoices("mongo_uri", "WSIS_MONGO_URI"),
    )
    topic_prefix: str = Field(
        default="", validation_alias=AliasChoices("topic_prefix", "WSIS_TOPIC_PREFIX")
    )
    # MongoDB refuses database names with / \\ . " $ spaces or NUL: checked here, one line.
    mongo_db_prefix: str = Field(
        default="wsis_",
        pattern=r"^[A-Za-z0-9_-]{0,40}$",
        validation_alias=AliasChoices("mongo_db_prefix", "WSIS_MONGO_DB_PREFIX"),
    )
    log_format: Literal["json", "console"] = Field(
        default="json", validation_alias=AliasChoices("log_format", "WSIS_LOG_FORMAT")
    )
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        BeforeValidator(lambda level: level.strip().upper() if isinstance(level, str) else level),
    ] = Field(default="INFO", validation_alias=AliasChoices("log_level", "WSIS_LOG_LEVEL"))
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("otlp_endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    api_processes: int = Field(default=1, ge=1)  # `api` serves from this many (uvicorn workers)
    # `worker` alone serves /metrics here when set
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    max_body_bytes: int = 1024 * 1024  # JSON bodies; upload routes set their own limit
    consumer_max_attempts: int = 4
    consumer_retry_backoff_s: float = 0.2
    outbox_poll_interval_s: float = 0.1

    @property
    def mongo_database(self) -> str:
        return f"{self.mongo_db_prefix}{self.service_name}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
