"""Hub capabilities: one Django app each, living in every hub's own schema (TENANT_APPS)."""
