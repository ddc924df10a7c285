"""Per-request and per-task context carried into logs and audit events."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("huoban_request_id", default="-")
