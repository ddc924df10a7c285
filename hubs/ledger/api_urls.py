from django.urls import URLPattern, URLResolver, path

from hubs.ledger import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("ledger/accounts", api.AccountListView.as_view(), name="api-ledger-accounts"),
    path("ledger/accounts/<int:pk>", api.AccountDetailView.as_view(), name="api-ledger-account"),
    path("ledger/accounts/<int:pk>/close", api.AccountCloseView.as_view(), name="api-ledger-account-close"),
    path("ledger/transactions", api.TransactionListView.as_view(), name="api-ledger-transactions"),
    path("ledger/transactions/<int:pk>", api.TransactionDetailView.as_view(), name="api-ledger-transaction"),
    path(
        "ledger/transactions/<int:pk>/reverse",
        api.TransactionReverseView.as_view(),
        name="api-ledger-transaction-reverse",
    ),
    path("ledger/verify", api.LedgerVerifyView.as_view(), name="api-ledger-verify"),
]
