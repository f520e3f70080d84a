"""Errors a person can read: every refused request says why and changes nothing."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the restaurant's rules refuse; `message` is shown to the person as is."""

    status_code = 400
    code = "refused"

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class InvalidInput(DomainError):
    """The request's data is wrong: unknown ids, bad numbers, text too long."""

    status_code = 422
    code = "invalid"


class NotFound(DomainError):
    """The thing asked for does not exist (or is archived)."""

    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    """The person's role does not allow this."""

    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    """The request clashes with the current state (a closed check, a busy table)."""

    status_code = 409
    code = "conflict"


class StaleVersion(Conflict):
    """Someone changed the thing on another device since this one loaded it."""

    code = "stale"


class IdempotencyMismatch(DomainError):
    """The same idempotency key came back with a different request."""

    status_code = 422
    code = "idempotency_mismatch"


class DatabaseUnavailable(DomainError):
    """The database could not be reached (down, restarting, or the network to it is gone)."""

    status_code = 503
    code = "database_unavailable"


class ManagerApprovalRequired(PermissionDenied):
    """The action needs a manager's PIN in the same flow."""

    code = "approval_required"
