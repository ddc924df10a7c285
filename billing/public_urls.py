"""Base domain: Stripe's webhook and the operator console's billing pages, included at the root."""

from django.urls import path

from billing import views

urlpatterns = [
    path("billing/webhooks/stripe/", views.stripe_webhook, name="billing-stripe-webhook"),
    path("console/billing/", views.console_billing, name="console-billing"),
    path("console/billing/<slug:slug>/", views.console_billing_hub, name="console-billing-hub"),
]
