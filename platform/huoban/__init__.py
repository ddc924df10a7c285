"""Huoban platform layer: settings, URLs, Celery app, CLI, API kernel and the shared services."""

from huoban.celery import app as celery_app

__all__ = ["celery_app"]
