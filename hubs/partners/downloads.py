"""File responses for the export and the import template (pages and API)."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def file_response(data: bytes, file_format: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.{file_format}")
    response["Cache-Control"] = "private, no-store"  # staff-only data
    return response
