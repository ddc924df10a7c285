"""Hub host API (under /api/v1/): the hub admin's billing."""

from django.urls import path

from billing import api

urlpatterns = [
    path("billing", api.BillingSummaryView.as_view(), name="api-billing"),
    path("billing/plans", api.BillingPlansView.as_view(), name="api-billing-plans"),
    path("billing/invoices", api.BillingInvoicesView.as_view(), name="api-billing-invoices"),
    path("billing/plan", api.BillingPlanChangeView.as_view(), name="api-billing-plan"),
    path("billing/cancel", api.BillingCancelView.as_view(), name="api-billing-cancel"),
    path("billing/resume", api.BillingResumeView.as_view(), name="api-billing-resume"),
    path("billing/setup-intent", api.BillingSetupIntentView.as_view(), name="api-billing-setup-intent"),
    path("billing/payment-method", api.BillingPaymentMethodView.as_view(), name="api-billing-payment-method"),
]
