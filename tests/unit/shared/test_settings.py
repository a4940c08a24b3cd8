"""An environment that does not configure a service is reported by the variables to fix."""

from __future__ import annotations

import pytest

from wsis_shared.settings import ConfigurationError, environment_variable, read_settings
from wsis_voting.settings import VotingSettings


def test_each_setting_is_named_by_the_variable_it_is_read_from() -> None:
    assert environment_variable(VotingSettings, "port") == "WSIS_VOTING_PORT"
    assert environment_variable(VotingSettings, "rate_limits_enabled") == (
        "WSIS_VOTING_RATE_LIMITS_ENABLED"
    )
    # Shared infrastructure has one name for every service, whichever spelling pydantic reports.
    assert environment_variable(VotingSettings, "mongo_uri") == "WSIS_MONGO_URI"
    assert environment_variable(VotingSettings, "WSIS_MONGO_URI") == "WSIS_MONGO_URI"
    assert environment_variable(VotingSettings, "otlp_endpoint") == "OTEL_EXPORTER_OTLP_ENDPOINT"


def test_invalid_settings_name_every_variable_to_fix_and_never_echo_a_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WSIS_VOTING_PORT", "eighty")
    monkeypatch.setenv("WSIS_LOG_FORMAT", "s3cr3t-looking-value")

    with pytest.raises(ConfigurationError) as refused:
        read_settings(VotingSettings)

    problems = sorted(str(refused.value).split("; "))
    assert problems[0] == "WSIS_LOG_FORMAT: Input should be 'json' or 'console'"
    assert problems[1].startswith("WSIS_VOTING_PORT: Input should be a valid integer")
    reason = str(refused.value)
    assert "eighty" not in reason
    assert "s3cr3t" not in reason


def test_valid_settings_are_read_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSIS_VOTING_PORT", "8103")
    monkeypatch.setenv("WSIS_MONGO_URI", "mongodb://db.internal:27017/?replicaSet=rs0")

    settings = read_settings(VotingSettings)

    assert settings.port == 8103
    assert settings.mongo_uri == "mongodb://db.internal:27017/?replicaSet=rs0"


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("WSIS_LOG_LEVEL", "verbose", "Input should be 'DEBUG', 'INFO'"),
        ("WSIS_VOTING_PORT", "99999", "Input should be less than or equal to 65535"),
        ("WSIS_VOTING_WORKER_METRICS_PORT", "0", "Input should be greater than or equal to 1"),
        ("WSIS_MONGO_DB_PREFIX", "wsis.prod_", "String should match pattern"),
    ],
)
def test_a_value_out_of_its_range_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError, match=f"{variable}: {reason}"):
        read_settings(VotingSettings)


def test_a_log_level_in_any_case_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSIS_LOG_LEVEL", " debug ")

    assert read_settings(VotingSettings).log_level == "DEBUG"
