"""Billing hubs with Stripe (plans, subscriptions, webhooks, entitlements). Public schema."""
