"""The ledger's staff page: accounts with balances and the latest transactions."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hubs.core.permissions import hub_view
from hubs.ledger import selectors
from hubs.ledger.permissions import LEDGER_READERS

LATEST_TRANSACTIONS = 20


@hub_view(roles=LEDGER_READERS)
def ledger_home(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.account_list(), 100).get_page(request.GET.get("page"))
    balances = selectors.balances(accounts=page.object_list)
    rows = [(account, balances[account.pk]) for account in page.object_list]
    latest = list(selectors.transaction_list()[:LATEST_TRANSACTIONS])
    totals = selectors.transaction_totals(transactions=latest)
    transactions = [(txn, totals[txn.pk]) for txn in latest]
    return render(request, "hubs/ledger/index.html", {"page": page, "rows": rows, "transactions": transactions})
