"""Hubs as tenants: the Hub and its domains, provisioning, host routing, the operator console."""
