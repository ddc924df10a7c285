import logging

from huoban import context


class ContextFilter(logging.Filter):
    """Add the active hub schema and the request id to every log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            from django.db import connection

            record.schema = getattr(connection, "schema_name", "-")
        except Exception:  # logging must never fail, e.g. before Django is set up
            record.schema = "-"
        record.request_id = context.request_id.get()
        return True
