"""A lease in MongoDB: at most one holder at a time for a named job (one outbox relay per
service, one vote relay), taken over by another replica once its holder stops renewing it.

The lease is rewritten only when half of it has run out, not at every check: a lease write is a
journaled write with an oplog entry, and several relays polling ten times a second made them a
visible share of mongod's work under load.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import timedelta
from typing import Final

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from wsis_shared.events import utcnow
from wsis_shared.mongo import Database

LEASES: Final = "leases"
DEFAULT_TTL: Final = timedelta(seconds=10)


class Lease:
    def __init__(self, db: Database, name: str, owner_prefix: str, ttl: timedelta = DEFAULT_TTL):
        self._leases = db[LEASES]
        self._name = name
        self._ttl = ttl
        self.owner = f"{owner_prefix}-{uuid.uuid4().hex[:8]}"
        self._good_until = 0.0  # time.monotonic() before which no renewal is needed

    async def hold(self) -> bool:
        """True if this holder has the lease (taking or renewing it when needed)."""
        if time.monotonic() < self._good_until:
            return True
        renewing_at = time.monotonic()
        now = utcnow()
        try:
            lease = await self._leases.find_one_and_update(
                {
                    "_id": self._name,
                    "$or": [{"owner": self.owner}, {"expires_at": {"$lt": now}}],
                },
                {"$set": {"owner": self.owner, "expires_at": now + self._ttl}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            self._good_until = 0.0
            return False  # another holder's lease is live
        held = lease is not None and lease.get("owner") == self.owner
        # The other half is the margin against slow renewals and clock drift between replicas.
        self._good_until = renewing_at + self._ttl.total_seconds() / 2 if held else 0.0
        return held

    async def release(self) -> None:
        self._good_until = 0.0
        with contextlib.suppress(PyMongoError):  # else it expires by itself
            await self._leases.delete_one({"_id": self._name, "owner": self.owner})
