"""JWT bearer authentication and role checks.

Production verifies RS256 tokens against the identity provider's JWKS (`WSIS_JWT_JWKS_URL`);
locally a dev signer holds an RSA key pair (`python -m wsis_shared token …`) and the services
verify with its public key (`WSIS_JWT_PUBLIC_KEY_FILE`). Both paths are the same RS256 check:
only `RS256` is accepted, so `alg: none` and HMAC tricks are refused.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from wsis_shared.errors import Forbidden, Unauthenticated
from wsis_shared.settings import ConfigurationError, TokenCheckSettings
from wsis_shared.vocabulary import Role

ALGORITHMS = ["RS256"]


class Principal(BaseModel):
    """Who is calling, as the token says."""

    model_config = ConfigDict(frozen=True)

    subject: str
    roles: frozenset[Role]
    organisation_id: str | None = None
    name: str | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


VERIFIED_TOKENS_KEPT: Final = 50_000

# (expires_at, subject, role names, organisation_id, name): numbers and strings only.
_Entry = tuple[float, str, tuple[str, ...], str | None, str | None]


class VerifiedTokens:
    """Tokens already verified, until they expire (the least recently used go first beyond
    `kept`): a voter casts several votes, a reviewer saves a draft every few seconds, and an
    RS256 check is most of such a request's own work.

    An entry holds only strings and numbers, never the `Principal` itself: the garbage collector
    stops tracking a tuple of those, whereas 50,000 cached principals are 250,000 objects that
    each full collection walks — in the vote storm that made full collections of a voting API
    process last up to 120 ms, every request of the process waiting."""

    def __init__(self, kept: int = VERIFIED_TOKENS_KEPT) -> None:
        self._kept = kept
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def knows(self, token: str) -> bool:
        """Whether `token` was verified and has not expired (without building its principal)."""
        entry = self._entries.get(token)
        return entry is not None and entry[0] > time.time()

    def get(self, token: str) -> Principal | None:
        if not self.knows(token):
            self._entries.pop(token, None)
            return None
        _, subject, roles, organisation_id, name = self._entries[token]
        self._entries.move_to_end(token)
        return Principal.model_construct(
            subject=subject,
            roles=frozenset(Role(role) for role in roles),
            organisation_id=organisation_id,
            name=name,
        )

    def put(self, token: str, principal: Principal, expires_at: float) -> None:
        self._entries[token] = (
            expires_at,
            principal.subject,
            tuple(str(role) for role in principal.roles),
            principal.organisation_id,
            principal.name,
        )
        if len(self._entries) > self._kept:
            self._entries.popitem(last=False)


class TokenVerifier:
    def __init__(
        self,
        *,
        audience: str,
        issuer: str,
        public_key_pem: bytes | None = None,
        jwks_url: str | None = None,
    ) -> None:
        if public_key_pem is None and jwks_url is None:
            raise ConfigurationError(
                "set WSIS_JWT_PUBLIC_KEY_FILE or WSIS_JWT_JWKS_URL: the key that signs tokens"
            )
        self._audience = audience
        self._issuer = issuer
        self._key: Any = (
            serialization.load_pem_public_key(public_key_pem) if public_key_pem else None
        )
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._verified = VerifiedTokens()

    async def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        principal, expires_at = await self._verify(token)
        self._verified.put(token, principal, expires_at)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            if self._jwks is not None:
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                key: Any = signing_key.key
            else:
                key = self._key
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the token has expired: sign in again") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"the token was refused: {exc}") from exc
        try:
            roles = frozenset(Role(role) for role in claims.get("roles", []))
        except ValueError as exc:
            raise Unauthenticated(f"the token names an unknown role: {exc}") from exc
        principal = Principal(
            subject=str(claims["sub"]),
            roles=roles,
            organisation_id=claims.get("org"),
            name=claims.get("name"),
        )
        return principal, float(claims["exp"])


def token_verifier(settings: TokenCheckSettings) -> TokenVerifier:
    key = settings.jwt_public_key_file.read_bytes() if settings.jwt_public_key_file else None
    return TokenVerifier(
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        public_key_pem=key,
        jwks_url=settings.jwt_jwks_url,
    )


_bearer = HTTPBearer(auto_error=False)
# The same scheme for endpoints anyone may call and a token only changes what they see: its own
# name lets the OpenAPI document say so (`security: [{HTTPBearer: []}, {}]`, see wsis_shared.web),
# so clients and API fuzzers do not take the token for a requirement.
OPTIONAL_BEARER = "HTTPBearerOptional"
optional_bearer = HTTPBearer(
    auto_error=False,
    scheme_name=OPTIONAL_BEARER,
    description="optional: anyone may call; a token may show more",
)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send a bearer token: Authorization: Bearer <token>")
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(credentials.credentials)


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(optional_bearer)],
) -> Principal | None:
    """The caller if a token was sent (and is valid), else None: for pages anyone may read but
    some roles see more of."""
    if credentials is None:
        return None
    return await current_principal(request, credentials)


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets in a principal holding any of `roles`, else 403."""
    allowed = ", ".join(roles)

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.has(*roles):
            raise Forbidden(f"this needs the role {allowed}", required_roles=list(roles))
        return principal

    return dependency


# --- the dev signer ----------------------------------------------------------------------------


def ensure_dev_keys(directory: Path) -> tuple[Path, Path]:
    """Create (once) an RSA key pair for local development; returns (private, public) paths."""
    private_path, public_path = directory / "jwt-private.pem", directory / "jwt-public.pem"
    if not private_path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        private_path.chmod(0o600)
        public_path.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return private_path, public_path


def sign_dev_token(
    private_key_pem: bytes,
    *,
    subject: str,
    roles: list[Role],
    organisation_id: str | None = None,
    name: str | None = None,
    audience: str = "wsis",
    issuer: str = "wsis-dev",
    ttl_s: int = 12 * 3600,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": [str(role) for role in roles],
        "aud": audience,
        "iss": issuer,
        "iat": now,
        "exp": now + ttl_s,
    }
    if organisation_id:
        claims["org"] = organisation_id
    if name:
        claims["name"] = name
    return jwt.encode(claims, _signing_key(private_key_pem), algorithm="RS256")


@functools.lru_cache(maxsize=8)
def _signing_key(private_key_pem: bytes) -> rsa.RSAPrivateKey:
    """Parsed once: loading an RSA key checks it, which costs a hundred times a signature."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the development signing key must be an RSA key")
    return key
