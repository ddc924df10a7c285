"""Hub host: the hub admin's billing pages, included under ``billing/``."""

from django.urls import path

from billing import views

urlpatterns = [
    path("", views.billing_home, name="billing-home"),
    path("plan/", views.billing_plan, name="billing-plan"),
    path("cancel/", views.billing_cancel, name="billing-cancel"),
    path("resume/", views.billing_resume, name="billing-resume"),
    path("payment-method/", views.billing_payment_method, name="billing-payment-method"),
    path("invoices/<int:pk>/", views.billing_receipt, name="billing-receipt"),
    path("invoices/<int:pk>/pay/", views.billing_invoice_pay, name="billing-invoice-pay"),
]
