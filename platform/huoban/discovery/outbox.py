"""The drain: outbox rows → index entries.

Rows are applied in id order, in batches claimed with ``FOR UPDATE SKIP LOCKED`` so several workers can drain at
once. Every entry remembers the id of the row that wrote it and a row is only applied over an older one, so two
workers finishing out of order, or a row applied twice, leave the same index. An unpublished item leaves a
tombstone (key and sequence number only) for the same reason. Segmenting the text (jieba) happens here, in the
worker, not in the hub's request.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone, translation

from huoban.db import connection
from huoban.discovery.models import EntryStatus, OutboxOp, ServiceArea, service_area_bits
from huoban.discovery.services import content_hash
from huoban.discovery.text import segment
from huoban.regions import region_get, region_label

logger = logging.getLogger(__name__)

_UPSERT = """
INSERT INTO discovery_discoveryentry AS e (hub_id, hub_slug, hub_name, hub_name_en, kind, source_app, source_id,
    title, summary, region_code, region_path, service_areas, service_area_bits, amount, currency, opens_on,
    closes_on, deadline, status, link_url, content_hash, search_vector, seq, published_at, updated_at)
VALUES (%(hub_id)s, %(hub_slug)s, %(hub_name)s, %(hub_name_en)s, %(kind)s, %(source_app)s, %(source_id)s,
    %(title)s, %(summary)s, %(region_code)s, %(region_path)s::varchar[], %(service_areas)s::varchar[],
    %(area_bits)s, %(amount)s, %(currency)s, %(opens_on)s, %(closes_on)s, %(deadline)s, %(status)s, %(link_url)s,
    %(content_hash)s,
    setweight(to_tsvector('simple', %(words_a)s), 'A') || setweight(to_tsvector('simple', %(words_b)s), 'B')
        || setweight(to_tsvector('simple', %(words_c)s), 'C'),
    %(seq)s, %(now)s, %(now)s)
ON CONFLICT (hub_id, source_app, source_id) DO UPDATE SET
    hub_slug = EXCLUDED.hub_slug, hub_name = EXCLUDED.hub_name, hub_name_en = EXCLUDED.hub_name_en,
    kind = EXCLUDED.kind, title = EXCLUDED.title, summary = EXCLUDED.summary, region_code = EXCLUDED.region_code,
    region_path = EXCLUDED.region_path, service_areas = EXCLUDED.service_areas,
    service_area_bits = EXCLUDED.service_area_bits, amount = EXCLUDED.amount,
    currency = EXCLUDED.currency, opens_on = EXCLUDED.opens_on, closes_on = EXCLUDED.closes_on,
    deadline = EXCLUDED.deadline, status = EXCLUDED.status, link_url = EXCLUDED.link_url,
    content_hash = EXCLUDED.content_hash, search_vector = EXCLUDED.search_vector, seq = EXCLUDED.seq,
    updated_at = EXCLUDED.updated_at,
    -- "new" for saved-search digests: first publication, or back after having been unpublished
    published_at = CASE WHEN e.status = 'withdrawn' THEN EXCLUDED.published_at ELSE e.published_at END
WHERE e.seq < EXCLUDED.seq
"""

_TOMBSTONE = """
INSERT INTO discovery_discoveryentry AS e (hub_id, hub_slug, hub_name, hub_name_en, kind, source_app, source_id,
    title, summary, region_code, region_path, service_areas, service_area_bits, currency, status, link_url,
    content_hash, seq, published_at, updated_at)
VALUES (%(hub_id)s, '', '', '', '', %(source_app)s, %(source_id)s, '', '', '', '{}', '{}', 0, 'CNY',
    'withdrawn', '', '', %(seq)s, %(now)s, %(now)s)
ON CONFLICT (hub_id, source_app, source_id) DO UPDATE SET
    title = '', summary = '', region_code = '', region_path = '{}', service_areas = '{}', service_area_bits = 0,
    amount = NULL, opens_on = NULL, closes_on = NULL, deadline = NULL, status = 'withdrawn', link_url = '',
    content_hash = '', search_vector = NULL, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
WHERE e.seq < EXCLUDED.seq
"""

_VISIBILITY = """
INSERT INTO discovery_discoveryhub AS h (hub_id, visible, seq, updated_at)
VALUES (%(hub_id)s, %(visible)s, %(seq)s, %(now)s)
ON CONFLICT (hub_id) DO UPDATE SET visible = EXCLUDED.visible, seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
WHERE h.seq < EXCLUDED.seq
"""


def _region_path(code: str) -> list[str]:
    region = region_get(code) if code else None
    return [*region.parent_codes, code] if region else ([code] if code else [])


@lru_cache(maxsize=8192)
def _context_words(region_code: str, areas: tuple[str, ...]) -> str:
    """Weight C: the region's full name (雅安 finds the entries of 雅安市 and its districts) and the service
    areas in Chinese and as their English tags (elderly finds 养老 entries). Few combinations: cached."""
    with translation.override(None):  # the Chinese source names, whatever language is active
        labels = [str(ServiceArea(a).label) for a in areas]
    return segment(" ".join([region_label(region_code) if region_code else "", *labels, *areas]))


def _publish_params(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    p = row["payload"]
    return {
        "hub_id": row["hub_id"],
        "source_app": row["source_app"],
        "source_id": row["source_id"],
        "seq": row["id"],
        "now": now,
        **{k: p[k] for k in ("hub_slug", "hub_name", "hub_name_en", "kind", "title", "summary", "region_code")},
        "region_path": _region_path(p["region_code"]),
        "service_areas": list(p["service_areas"]),
        "area_bits": service_area_bits(p["service_areas"]),
        "amount": p["amount"],
        "currency": p["currency"],
        "opens_on": date.fromisoformat(p["opens_on"]) if p["opens_on"] else None,
        "closes_on": date.fromisoformat(p["closes_on"]) if p["closes_on"] else None,
        "deadline": date.fromisoformat(p["deadline"]) if p["deadline"] else None,
        "status": p["status"],
        "link_url": p["link_url"],
        "content_hash": content_hash(p),
        "words_a": segment(p["title"]),
        "words_b": segment(p["summary"]),
        "words_c": _context_words(p["region_code"], tuple(p["service_areas"])),
    }


@dataclass
class DrainResult:
    processed: int = 0  # rows taken off the outbox
    applied: int = 0  # of them, rows applied (a later row for the same item in a batch supersedes the earlier)
    batches: int = 0
    failed: int = 0  # rows set aside because they could not be applied

    def __iadd__(self, other: DrainResult) -> DrainResult:
        self.processed += other.processed
        self.applied += other.applied
        self.batches += other.batches
        self.failed += other.failed
        return self


def _apply_rows(cursor: Any, rows: list[dict[str, Any]]) -> int:
    """Apply one claimed batch (ordered by id). Returns how many rows took effect."""
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:  # in id order: the last row for a key is the newest
        key = (
            ("hub", row["hub_id"])
            if row["op"] == OutboxOp.HUB_VISIBILITY
            else (row["hub_id"], row["source_app"], row["source_id"])
        )
        latest[key] = row
    now = timezone.now()
    publish, tombstone, visibility = [], [], []
    for row in latest.values():
        if row["op"] == OutboxOp.PUBLISH:
            publish.append(_publish_params(row, now))
        elif row["op"] == OutboxOp.UNPUBLISH:
            tombstone.append(
                {**{k: row[k] for k in ("hub_id", "source_app", "source_id")}, "seq": row["id"], "now": now}
            )
        else:
            visibility.append(
                {"hub_id": row["hub_id"], "visible": bool(row["payload"].get("visible")), "seq": row["id"], "now": now}
            )
    if publish:
        cursor.executemany(_UPSERT, publish)
    if tombstone:
        cursor.executemany(_TOMBSTONE, tombstone)
    if visibility:
        cursor.executemany(_VISIBILITY, visibility)
    return len(latest)


def _drain_batch(batch_size: int) -> tuple[int, DrainResult]:
    """Claim and apply one batch; returns how many rows it claimed and what became of them."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Rows another worker holds are skipped, not waited for: each worker takes the oldest free batch.
        cursor.execute(
            "SELECT id, op, hub_id, source_app, source_id, payload FROM discovery_discoveryoutbox "
            "WHERE failed_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
            [batch_size],
        )
        rows = [
            {
                "id": id_,
                "op": op,
                "hub_id": hub_id,
                "source_app": source_app,
                "source_id": source_id,
                "payload": json.loads(payload) if isinstance(payload, str) else payload,
            }
            for id_, op, hub_id, source_app, source_id, payload in cursor.fetchall()
        ]
        if not rows:
            return 0, DrainResult()
        result = DrainResult(batches=1)
        done = [r["id"] for r in rows]
        try:
            with transaction.atomic():
                result.applied = _apply_rows(cursor, rows)
        except Exception:
            # One bad row must not hold the outbox up: apply the batch row by row (in id order, so the outcome is
            # the same) and set aside what still fails, for discovery_check to report and a rebuild to replace.
            logger.exception("discovery outbox: a batch failed; applying its %d rows one by one", len(rows))
            done = []
            for row in rows:
                try:
                    with transaction.atomic():
                        result.applied += _apply_rows(cursor, [row])
                    done.append(row["id"])
                except Exception as exc:
                    logger.exception("discovery outbox: row %s set aside", row["id"])
                    cursor.execute(
                        "UPDATE discovery_discoveryoutbox SET failed_at = %s, error = %s WHERE id = %s",
                        [timezone.now(), f"{type(exc).__name__}: {exc}"[:1000], row["id"]],
                    )
                    result.failed += 1
        cursor.execute("DELETE FROM discovery_discoveryoutbox WHERE id = ANY(%s)", [done])
        result.processed = len(done)
    return len(rows), result


def discovery_outbox_drain(*, batch_size: int = 500, max_batches: int | None = None) -> DrainResult:
    """Apply pending outbox rows, oldest first, until none is left (or ``max_batches`` batches were done).

    Each batch is its own short transaction. Safe to run in several workers at once and to repeat. A row that
    cannot be applied is set aside (``failed_at``) instead of blocking the rows behind it.
    """
    total = DrainResult()
    while max_batches is None or total.batches < max_batches:
        claimed, result = _drain_batch(batch_size)
        if not claimed:
            break
        total += result
    return total


def discovery_tombstones_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete tombstones that no pending outbox row can still need: older than every pending row and than
    ``older_than``. Returns how many were deleted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM discovery_discoveryentry WHERE status = %s AND updated_at < %s "
            "AND seq < coalesce((SELECT min(id) FROM discovery_discoveryoutbox), 9223372036854775807)",
            [EntryStatus.WITHDRAWN, timezone.now() - older_than],
        )
        return int(cursor.rowcount)
