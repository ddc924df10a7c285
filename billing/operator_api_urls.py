"""Base domain API (under /api/v1/): operators' billing tools."""

from django.urls import path

from billing import api

urlpatterns = [
    path("operator/billing/hubs", api.OperatorBillingHubsView.as_view(), name="api-operator-billing-hubs"),
    path("operator/billing/hubs/<slug:slug>", api.OperatorBillingHubView.as_view(), name="api-operator-billing-hub"),
    path(
        "operator/billing/hubs/<slug:slug>/comp",
        api.OperatorBillingCompView.as_view(),
        name="api-operator-billing-comp",
    ),
    path(
        "operator/billing/hubs/<slug:slug>/credits",
        api.OperatorBillingCreditView.as_view(),
        name="api-operator-billing-credits",
    ),
]
