"""An admin rules votes invalid (a bot farm, a bought campaign): by voters, by an address range,
by a time window, or a combination; always with a reason, kept in an audit trail."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Final, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from wsis_shared.events import utc_year
from wsis_shared.vocabulary import Category

# The years an edition can have (`EditionCreate` in the submissions service).
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2100


class InvalidationRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=5, max_length=2000, description="why, for the audit trail")
    voters: tuple[str, ...] = Field(default=(), max_length=10000)
    ip_range: str | None = Field(default=None, description="CIDR, e.g. 203.0.113.0/24")
    cast_from: AwareDatetime | None = None
    cast_until: AwareDatetime | None = None
    categories: tuple[Category, ...] = ()

    @field_validator("ip_range")
    @classmethod
    def _network(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an address range such as 203.0.113.0/24") from None

    @field_validator("cast_from", "cast_until")
    @classmethod
    def _a_time_votes_can_have(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        year = utc_year(value)
        if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"votes are cast between {FIRST_YEAR} and {LAST_YEAR}")
        return value

    @model_validator(mode="after")
    def _selects_something(self) -> Self:
        if not (self.voters or self.ip_range or self.cast_from or self.cast_until):
            raise ValueError(
                "name voters, an ip_range or a time window: a rule without one would rule out "
                "every vote"
            )
        if self.cast_from and self.cast_until and self.cast_until <= self.cast_from:
            raise ValueError("cast_until must be after cast_from")
        return self

    def ip_text_prefix(self) -> str | None:
        """A beginning every address of `ip_range` has as stored text (an IPv4 address dotted,
        an IPv6 one compressed), so that MongoDB sends only those votes, not every vote of the
        edition; `matches_ip` then decides exactly. None when no such text exists (a /7, say)."""
        if self.ip_range is None:
            return None
        network = ipaddress.ip_network(self.ip_range)
        if isinstance(network, ipaddress.IPv4Network):
            octets = str(network.network_address).split(".")
            fixed = network.prefixlen // 8
            if fixed == 4:
                return str(network.network_address)
            return ".".join(octets[:fixed]) + "." if fixed else None
        # Compressed, an address writes its leading non-zero hextets as they are ("2001:db8:"),
        # whatever follows; a zero hextet may become part of "::".
        hextets = network.network_address.exploded.split(":")
        leading = []
        for hextet in hextets[: network.prefixlen // 16]:
            if int(hextet, 16) == 0:
                break
            leading.append(format(int(hextet, 16), "x"))
        if len(leading) == 8:
            return str(network.network_address)
        return ":".join(leading) + ":" if leading else None

    def matches_ip(self, ip: str | None) -> bool:
        if self.ip_range is None:
            return True
        if ip is None:
            return False
        try:
            return ipaddress.ip_address(ip) in ipaddress.ip_network(self.ip_range)
        except ValueError:
            return False


class Invalidation(BaseModel):
    invalidation_id: str
    edition: int
    rule: InvalidationRule
    by: str
    at: datetime
    votes_ruled_out: int
    dry_run: bool = False
