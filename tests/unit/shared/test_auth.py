"""Bearer tokens: only RS256 tokens of our issuer for our audience get in, roles are enforced."""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Annotated, Any

import jwt
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from wsis_shared.auth import (
    Principal,
    TokenVerifier,
    VerifiedTokens,
    ensure_dev_keys,
    optional_principal,
    require_role,
    sign_dev_token,
)
from wsis_shared.errors import Unauthenticated
from wsis_shared.vocabulary import Role
from wsis_shared.web import PROBLEM_JSON, install_problem_handlers

AUDIENCE = "wsis"
ISSUER = "wsis-dev"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of the dev signer; generated once for the module."""
    private_path, public_path = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    return private_path.read_bytes(), public_path.read_bytes()


@pytest.fixture(scope="module")
def other_private_key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    private_path, _ = ensure_dev_keys(tmp_path_factory.mktemp("other-keys"))
    return private_path.read_bytes()


@pytest.fixture(scope="module")
def verifier(keys: tuple[bytes, bytes]) -> TokenVerifier:
    return TokenVerifier(audience=AUDIENCE, issuer=ISSUER, public_key_pem=keys[1])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "alice",
        "roles": ["submitter"],
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _token(private_pem: bytes, **claims: Any) -> str:
    return jwt.encode(_claims(**claims), private_pem, algorithm="RS256")


# --- the dev signer ------------------------------------------------------------------------------


def test_ensure_dev_keys_creates_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    private_path, public_path = ensure_dev_keys(tmp_path / "keys")

    assert private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert private_path.stat().st_mode & 0o077 == 0


def test_ensure_dev_keys_keeps_existing_keys(tmp_path: Path) -> None:
    private_path, public_path = ensure_dev_keys(tmp_path)
    before = private_path.read_bytes(), public_path.read_bytes()

    assert ensure_dev_keys(tmp_path) == (private_path, public_path)
    assert (private_path.read_bytes(), public_path.read_bytes()) == before


def test_a_verifier_needs_a_key_source() -> None:
    with pytest.raises(ValueError, match="WSIS_JWT"):
        TokenVerifier(audience=AUDIENCE, issuer=ISSUER)


# --- accepted ------------------------------------------------------------------------------------


async def test_a_valid_token_gives_the_principal(
    keys: tuple[bytes, bytes], verifier: TokenVerifier
) -> None:
    token = sign_dev_token(
        keys[0],
        subject="alice",
        roles=[Role.SUBMITTER, Role.REVIEWER],
        organisation_id="org-1",
        name="Alice Example",
    )

    principal = await verifier.verify(token)

    assert principal == Principal(
        subject="alice",
        roles=frozenset({Role.SUBMITTER, Role.REVIEWER}),
        organisation_id="org-1",
        name="Alice Example",
    )
    assert principal.has(Role.REVIEWER)
    assert principal.has(Role.ADMIN, Role.SUBMITTER)
    assert not principal.has(Role.ADMIN)


async def test_a_token_without_roles_or_organisation_gives_a_bare_principal(
    keys: tuple[bytes, bytes], verifier: TokenVerifier
) -> None:
    principal = await verifier.verify(_token(keys[0], roles=None))

    assert principal.subject == "alice"
    assert principal.roles == frozenset()
    assert principal.organisation_id is None
    assert principal.name is None


async def test_a_verified_token_is_checked_again_only_once_it_has_expired(
    keys: tuple[bytes, bytes],
    verifier: TokenVerifier,
    monkeypatch: pytest.MonkeyPatch,
    jwt_checks: list[str],
) -> None:
    token = sign_dev_token(keys[0], subject="alice", roles=[Role.VOTER], ttl_s=60)
    first = await verifier.verify(token)
    again = await verifier.verify(token)
    assert first == again
    assert len(jwt_checks) == 1, "the second use came from the cache"

    later = time.time() + 120  # past the token's expiry, as the cache sees it
    monkeypatch.setattr("wsis_shared.auth.time.time", lambda: later)
    await verifier.verify(token)
    assert len(jwt_checks) == 2, "an expired entry is not served from the cache: checked again"


def test_the_token_cache_gives_back_the_principal_until_the_token_expires() -> None:
    cache = VerifiedTokens()
    alice = Principal(
        subject="alice",
        roles=frozenset({Role.SUBMITTER, Role.REVIEWER}),
        organisation_id="org-1",
        name="Alice Example",
    )
    cache.put("token-a", alice, time.time() + 60)
    cache.put("token-b", Principal(subject="bob", roles=frozenset()), time.time() - 1)

    assert cache.knows("token-a")
    assert not cache.knows("token-b")
    assert cache.get("token-a") == alice
    assert cache.get("token-a").has(Role.REVIEWER)  # type: ignore[union-attr]
    assert cache.get("token-b") is None, "expired"
    assert cache.get("unknown") is None


def test_the_token_cache_forgets_the_least_recently_used_beyond_its_size() -> None:
    cache = VerifiedTokens(kept=2)
    for name in ("a", "b"):
        cache.put(name, Principal(subject=name, roles=frozenset()), time.time() + 60)
    assert cache.get("a") is not None  # now b is the least recently used
    cache.put("c", Principal(subject="c", roles=frozenset()), time.time() + 60)

    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


def test_cached_tokens_give_the_garbage_collector_nothing_to_walk() -> None:
    """A full collection walks every tracked object: cached principals must not add to them."""
    cache = VerifiedTokens()
    gc.collect()
    tracked_before = len(gc.get_objects())
    for n in range(5_000):
        principal = Principal(subject=f"voter-{n}", roles=frozenset({Role.VOTER}))
        cache.put(f"token-{n}", principal, time.time() + 60)
    del principal
    gc.collect()

    assert len(gc.get_objects()) - tracked_before < 1_000  # 25,000 if principals were kept


# --- refused -------------------------------------------------------------------------------------


async def test_an_expired_token_is_refused(
    keys: tuple[bytes, bytes], verifier: TokenVerifier
) -> None:
    token = sign_dev_token(keys[0], subject="alice", roles=[Role.VOTER], ttl_s=-60)

    with pytest.raises(Unauthenticated, match="expired") as refused:
        await verifier.verify(token)

    assert refused.value.status == 401


async def test_a_token_for_another_audience_is_refused(
    keys: tuple[bytes, bytes], verifier: TokenVerifier
) -> None:
    token = sign_dev_token(keys[0], subject="alice", roles=[Role.VOTER], audience="other-app")

    with pytest.raises(Unauthenticated, match=r"(?i)audience"):
        await verifier.verify(token)


async def test_a_token_of_another_issuer_is_refused(
    keys: tuple[bytes, bytes], verifier: TokenVerifier
) -> None:
    token = sign_dev_token(keys[0], subject="alice", roles=[Role.VOTER], issuer="evil-idp")

    with pytest.raises(Unauthenticated, match=r"(?i)issuer"):
        await verifier.verify(token)


async def test_a_token_signed_with_another_key_is_refused(
    other_private_key: bytes, verifier: TokenVerifier
) -> None:
    token = sign_dev_token(other_private_key, subject="alice", roles=[Role.ADMIN])

    with pytest.raises(Unauthenticated, match=r"(?i)signature"):
        await verifier.verify(token)


async def test_a_tampered_payload_is_refused(
    keys: tuple[bytes, bytes], verifier: TokenVerifier
) -> None:
    header, _, signature = _token(keys[0], roles=["voter"]).split(".")
    forged_payload = _segment(_claims(roles=["admin"]))

    with pytest.raises(Unauthenticated):
        await verifier.verify(f"{header}.{forged_payload}.{signature}")


async def test_an_unsigned_alg_none_token_is_refused(verifier: TokenVerifier) -> None:
    for alg in ("none", "None", "NONE"):
        token = f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(_claims(roles=['admin']))}."

        with pytest.raises(Unauthenticated):
            await verifier.verify(token)


async def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    keys: tuple[bytes, bytes], verifier: TokenVerifier
) -> None:
    """The algorithm-confusion attack: the public key is public, so an HMAC keyed with it can be
    forged by anyone; a verifier that let the token pick its algorithm would accept it."""
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(_claims())}"
    mac = hmac.new(keys[1], signing_input.encode(), hashlib.sha256).digest()

    with pytest.raises(Unauthenticated):
        await verifier.verify(f"{signing_input}.{_b64(mac)}")


async def test_another_rsa_algorithm_is_refused(
    keys: tuple[bytes, bytes], verifier: TokenVerifier
) -> None:
    token = jwt.encode(_claims(), keys[0], algorithm="RS512")

    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


@pytest.mark.parametrize("claim", ["exp", "sub", "aud", "iss"])
async def test_a_token_without_a_required_claim_is_refused(
    keys: tuple[bytes, bytes], verifier: TokenVerifier, claim: str
) -> None:
    token = _token(keys[0], **{claim: None})

    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_a_token_naming_an_unknown_role_is_refused(
    keys: tuple[bytes, bytes], verifier: TokenVerifier
) -> None:
    token = _token(keys[0], roles=["voter", "superuser"])

    with pytest.raises(Unauthenticated, match="unknown role"):
        await verifier.verify(token)


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "a.b", "....."])
async def test_garbage_is_refused(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        await verifier.verify(garbage)


# --- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(verifier: TokenVerifier) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = verifier

    @app.get("/admin-only")
    async def admin_only(
        principal: Annotated[Principal, Depends(require_role(Role.ADMIN))],
    ) -> dict[str, str]:
        return {"subject": principal.subject}

    @app.get("/chair-or-admin")
    async def chair_or_admin(
        principal: Annotated[Principal, Depends(require_role(Role.CHAIR, Role.ADMIN))],
    ) -> dict[str, str]:
        return {"subject": principal.subject}

    @app.get("/anyone")
    async def anyone(
        principal: Annotated[Principal | None, Depends(optional_principal)],
    ) -> dict[str, str | None]:
        return {"subject": principal.subject if principal else None}

    return TestClient(app)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:wsis:problem:{code}"
    assert body["title"]
    assert body["detail"]
    return body


def test_no_token_is_401_problem(client: TestClient) -> None:
    body = _assert_problem(client.get("/admin-only"), 401, "unauthenticated")

    assert "bearer" in body["detail"].lower()


def test_another_scheme_is_401_problem(client: TestClient) -> None:
    response = client.get("/admin-only", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})

    _assert_problem(response, 401, "unauthenticated")


def test_an_invalid_token_is_401_problem(client: TestClient, keys: tuple[bytes, bytes]) -> None:
    expired = sign_dev_token(keys[0], subject="root", roles=[Role.ADMIN], ttl_s=-60)

    _assert_problem(client.get("/admin-only", headers=_bearer(expired)), 401, "unauthenticated")
    _assert_problem(
        client.get("/admin-only", headers=_bearer("not-a-token")), 401, "unauthenticated"
    )


def test_a_voter_is_403_problem(client: TestClient, keys: tuple[bytes, bytes]) -> None:
    token = sign_dev_token(keys[0], subject="vera", roles=[Role.VOTER])

    body = _assert_problem(client.get("/admin-only", headers=_bearer(token)), 403, "forbidden")

    assert body["required_roles"] == ["admin"]
    assert "admin" in body["detail"]


def test_an_admin_gets_in(client: TestClient, keys: tuple[bytes, bytes]) -> None:
    token = sign_dev_token(keys[0], subject="root", roles=[Role.ADMIN])

    response = client.get("/admin-only", headers=_bearer(token))

    assert response.status_code == 200
    assert response.json() == {"subject": "root"}


def test_any_of_several_roles_gets_in(client: TestClient, keys: tuple[bytes, bytes]) -> None:
    chair = sign_dev_token(keys[0], subject="carla", roles=[Role.REVIEWER, Role.CHAIR])
    reviewer = sign_dev_token(keys[0], subject="rob", roles=[Role.REVIEWER])

    assert client.get("/chair-or-admin", headers=_bearer(chair)).status_code == 200
    body = _assert_problem(
        client.get("/chair-or-admin", headers=_bearer(reviewer)), 403, "forbidden"
    )
    assert body["required_roles"] == ["chair", "admin"]


def test_optional_principal(client: TestClient, keys: tuple[bytes, bytes]) -> None:
    token = sign_dev_token(keys[0], subject="vera", roles=[Role.VOTER])

    assert client.get("/anyone").json() == {"subject": None}
    assert client.get("/anyone", headers=_bearer(token)).json() == {"subject": "vera"}
    _assert_problem(client.get("/anyone", headers=_bearer("bad")), 401, "unauthenticated")


def test_a_401_names_the_bearer_scheme(client: TestClient) -> None:
    anonymous = client.get("/admin-only")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="wsis"'
    refused = client.get("/admin-only", headers={"Authorization": "Bearer not.a.token"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="wsis", error="invalid_token"'
