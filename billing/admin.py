from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from billing.models import BillingAccount, BillingCredit, BillingInvoice, StripeEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Support can look; changes go through the services (console, API, billing_sync), which audit them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BillingAccount)
class BillingAccountAdmin(ReadOnlyAdmin):
    list_display = ["hub", "subscribed_plan", "subscription_status", "seats", "comp_plan", "payment_failed_at"]
    search_fields = ["hub__slug", "stripe_customer_id", "subscription_id"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "created", "hub", "processed_at", "result"]
    list_filter = ["type"]
    search_fields = ["event_id"]


@admin.register(BillingInvoice)
class BillingInvoiceAdmin(ReadOnlyAdmin):
    list_display = ["stripe_invoice_id", "hub", "status", "total", "amount_paid", "created"]
    search_fields = ["stripe_invoice_id", "number"]


@admin.register(BillingCredit)
class BillingCreditAdmin(ReadOnlyAdmin):
    list_display = ["hub", "amount", "reason", "created_by", "created_at"]
