"""Who reads and who writes the hub ledger."""

from __future__ import annotations

from hubs.core.permissions import HUB_ADMIN, STAFF
from tenants.models import HubRole

# Back-office staff and the treasurer read the books.
LEDGER_READERS: frozenset[str] = STAFF | {HubRole.TREASURER}
# Manual postings, reversals and the chart of accounts: the treasurer and hub admins.
LEDGER_WRITERS: frozenset[str] = HUB_ADMIN | {HubRole.TREASURER}
