"""Attachment files in MongoDB GridFS, and the signed links reviewers use to read them."""

from __future__ import annotations

import contextlib

from gridfs import AsyncGridFSBucket, NoFile
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from wsis_shared.errors import Forbidden, NotFound
from wsis_shared.mongo import Database

LINK_LIFETIME_S = 15 * 60


class GridFSFileStore:
    def __init__(self, db: Database) -> None:
        self._bucket = AsyncGridFSBucket(db, bucket_name="attachments")

    async def put(self, file_id: str, data: bytes, metadata: dict[str, str]) -> None:
        await self._bucket.upload_from_stream_with_id(file_id, file_id, data, metadata=metadata)

    async def get(self, file_id: str) -> bytes:
        try:
            stream = await self._bucket.open_download_stream(file_id)
        except NoFile as exc:
            raise NotFound(f"no file {file_id}") from exc
        data: bytes = await stream.read()
        return data

    async def delete(self, file_id: str) -> None:
        with contextlib.suppress(NoFile):
            await self._bucket.delete(file_id)


class AttachmentLinks:
    """Signed, expiring tokens naming one attachment of one entry."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="wsis-attachment")

    def sign(self, entry_id: str, attachment_id: str) -> str:
        return self._serializer.dumps([entry_id, attachment_id])

    def verify(self, token: str) -> tuple[str, str]:
        try:
            entry_id, attachment_id = self._serializer.loads(token, max_age=LINK_LIFETIME_S)
        except SignatureExpired as exc:
            raise Forbidden("this attachment link has expired: ask for a new one") from exc
        except (BadSignature, ValueError) as exc:
            raise Forbidden("this attachment link is not valid") from exc
        return str(entry_id), str(attachment_id)
