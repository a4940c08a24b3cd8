"""MongoDB storage of voters and of pending registrations.

`voters` holds a voter id and the keyed hash of the mailbox (unique: one voter per mailbox), never
an address. `voter_registrations` holds a pending code (hashed) and the plain address it was sent
to; a TTL index deletes each document when its code expires, and verification replaces it at
once by the record of the used code (its keyed hash and `used_at`, no address), so no address
outlives the code sent to it by more than the TTL monitor's minute.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from pymongo import ASCENDING, IndexModel

from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Session
from wsis_shared.uow import MongoUnitOfWork
from wsis_voting.domain.voters import PendingRegistration, UsedCode, Voter

VOTER_INDEXES: Final = {
    "voters": [
        IndexModel([("address_key", ASCENDING)], name="one_voter_per_mailbox", unique=True),
    ],
    "voter_registrations": [
        IndexModel([("purge_at", ASCENDING)], name="erase_when_code_expires", expireAfterSeconds=0)
    ],
}


class MongoVoterRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["voters"]
        self._session = session

    async def by_address(self, address_key: str) -> Voter | None:
        document = await self._collection.find_one(
            {"address_key": address_key}, session=self._session
        )
        return Voter.model_validate(document | {"voter_id": document["_id"]}) if document else None

    async def save(self, voter: Voter) -> None:
        await self._collection.replace_one(
            {"_id": voter.voter_id},
            voter.model_dump(mode="python", exclude={"voter_id"}),
            upsert=True,
            session=self._session,
        )


class MongoRegistrationRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["voter_registrations"]
        self._session = session

    async def get(self, address_key: str, now: datetime) -> PendingRegistration | None:
        document = await self._collection.find_one(
            {"_id": address_key, "purge_at": {"$gt": now}, "used_at": {"$exists": False}},
            session=self._session,
        )
        if document is None:
            return None
        return PendingRegistration.model_validate(document | {"address_key": document["_id"]})

    async def used(self, address_key: str, now: datetime) -> UsedCode | None:
        document = await self._collection.find_one(
            {"_id": address_key, "purge_at": {"$gt": now}, "used_at": {"$exists": True}},
            session=self._session,
        )
        if document is None:
            return None
        return UsedCode.model_validate(document | {"address_key": document["_id"]})

    async def mark_used(self, used: UsedCode) -> None:
        # A replacement, not an update: the plain address must not stay in the document.
        document = used.model_dump(mode="python", exclude={"address_key"})
        await self._collection.replace_one(
            {"_id": used.address_key},
            document | {"purge_at": used.purge_at},
            upsert=True,
            session=self._session,
        )

    async def save(self, registration: PendingRegistration) -> None:
        document = registration.model_dump(mode="python", exclude={"address_key"})
        await self._collection.replace_one(
            {"_id": registration.address_key},
            document | {"purge_at": registration.purge_at},
            upsert=True,
            session=self._session,
        )

    async def delete(self, address_key: str) -> None:
        await self._collection.delete_one({"_id": address_key}, session=self._session)


class VoterUnitOfWork(MongoUnitOfWork):
    def __init__(self, db: Database, session: Session, outbox: Outbox) -> None:
        super().__init__(db, session, outbox)
        self.voters = MongoVoterRepository(db, session)
        self.registrations = MongoRegistrationRepository(db, session)
