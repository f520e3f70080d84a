"""The wire of the sync protocol, shared by head office (which serves it) and venues (which call it)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.lib.errors import InvalidInput

ENROL_PATH = "/api/group/v1/enrol"
RECORDS_PATH = "/api/group/v1/records"
STATUS_PATH = "/api/group/v1/status"
# A batch head office takes in one request; a venue sends at most this many records at once.
MAX_BATCH = 1000
TOKEN_PREFIX = "brg_enrol_"  # noqa: S105 (a prefix, not a secret)
CREDENTIAL_PREFIX = "brg_venue_"


def new_secret(prefix: str) -> str:
    """A fresh enrolment token or venue credential."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """What head office keeps of a token or credential: its SHA-256, never the secret."""
    return hashlib.sha256(secret.strip().encode()).hexdigest()


@dataclass(frozen=True)
class IncomingRecord:
    """One record of a batch, as head office reads it from the wire."""

    sequence: int
    kind: str
    key: str
    occurred_at: datetime
    payload: dict[str, Any]


def parse_batch(body: object) -> list[IncomingRecord]:
    """A batch from its JSON body ({"records": [...]}), or a refusal saying what is wrong with it."""
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise InvalidInput('A batch is a JSON object with a "records" list.')
    raw_records: list[Any] = body["records"]
    if len(raw_records) > MAX_BATCH:
        raise InvalidInput(f"A batch holds at most {MAX_BATCH} records; this one has {len(raw_records)}.")
    records = []
    for index, raw in enumerate(raw_records):
        where = f"Record {index + 1}"
        if not isinstance(raw, dict):
            raise InvalidInput(f"{where} is not an object.")
        sequence = raw.get("sequence")
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
            raise InvalidInput(f"{where}: the sequence must be a whole number of at least 1.")
        kind, key, payload = raw.get("kind"), raw.get("key"), raw.get("payload")
        if not isinstance(kind, str) or not 0 < len(kind) <= 40:
            raise InvalidInput(f"{where}: the kind must be text of at most 40 characters.")
        if not isinstance(key, str) or not 0 < len(key) <= 200:
            raise InvalidInput(f"{where}: the key must be text of at most 200 characters.")
        if not isinstance(payload, dict):
            raise InvalidInput(f"{where}: the payload must be an object.")
        try:
            occurred_at = datetime.fromisoformat(str(raw.get("occurred_at")))
        except ValueError:
            raise InvalidInput(f"{where}: occurred_at must be an ISO 8601 time.") from None
        if occurred_at.tzinfo is None:
            raise InvalidInput(f"{where}: occurred_at must carry its time zone.")
        records.append(IncomingRecord(sequence, kind, key, occurred_at, payload))
    return records
