"""Discovery's tasks. The index is public-schema data, so they run the same whichever hub enqueued them."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from huoban.discovery import matching, outbox
from huoban.discovery.models import SavedSearch

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def discovery_outbox_drain() -> int:
    """Apply pending outbox rows (enqueued after every commit that wrote some, and every minute by beat)."""
    result = outbox.discovery_outbox_drain()
    if result.processed:
        logger.info(
            "discovery outbox: %d rows, %d applied, %d batches", result.processed, result.applied, result.batches
        )
    return result.processed


@shared_task(acks_late=True, ignore_result=True)
def discovery_tombstones_purge() -> int:
    """Periodic: forget unpublished items no pending outbox row can still concern."""
    return outbox.discovery_tombstones_purge()


@shared_task(bind=True, max_retries=5, default_retry_delay=300, acks_late=True, ignore_result=True)
def discovery_digest_send(self, *, saved_search_id: int) -> int:
    try:
        return matching.saved_search_digest_send(saved_search_id=saved_search_id)
    except OSError as exc:  # the mail server; the window only moves when the email left
        raise self.retry(exc=exc) from exc


@shared_task(ignore_result=True)
def discovery_digests_send() -> int:
    """Periodic (daily): one digest task per saved search with email on and a window to report."""
    count = 0
    ids = SavedSearch.objects.filter(email_digest=True, last_sent_at__lt=timezone.now() - matching.DIGEST_SETTLE)
    for saved_search_id in ids.values_list("pk", flat=True).iterator():
        discovery_digest_send.delay(saved_search_id=saved_search_id)
        count += 1
    return count
