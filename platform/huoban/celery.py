"""The Celery app. Tasks enqueued inside a hub carry its schema and run inside that hub (tenant-schemas-celery)."""

from __future__ import annotations

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huoban.settings")

app = CeleryApp("huoban")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
