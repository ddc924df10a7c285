"""The one error type of the domain.

Services raise ``ApplicationError``; the API renders it as ``{"code", "message", "extra"}`` and the web UI shows
the same translated message. ``status`` picks the HTTP status where the default (400) does not fit.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    def __init__(self, message: Any, *, code: str, extra: dict[str, Any] | None = None, status: int = 400):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.extra = extra or {}
        self.status = status

    def __str__(self) -> str:
        return str(self.message)
