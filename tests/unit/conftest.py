"""Fixtures shared by the unit tests of every service."""

from __future__ import annotations

from typing import Any

import jwt
import pytest


@pytest.fixture
def jwt_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One item per `jwt.decode` made while the test runs (to tell a cached token from a
    checked one)."""
    checks: list[str] = []
    real_decode = jwt.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        checks.append("decode")
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    return checks
