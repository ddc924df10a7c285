"""Production settings pass Django's deployment checks, and tenant tables never exist in the public schema."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_manage_check_deploy_is_clean_with_production_settings():
    if not os.environ.get("DATABASE_URL"):
        pytest.skip("needs an external PostgreSQL (DATABASE_URL); production never runs on the embedded one")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(Path.home()),
        "DATABASE_URL": os.environ["DATABASE_URL"],  # the checks read settings; nothing is written
        "SECRET_KEY": secrets.token_urlsafe(64),
        "HUOBAN_SITE_URL": "https://huoban.example.org",
        "HUOBAN_BEHIND_PROXY": "1",
        "HUOBAN_SSL_REDIRECT": "1",
        "HUOBAN_HSTS_SECONDS": "31536000",
        "HUOBAN_HSTS_PRELOAD": "1",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_tenant_tables_never_exist_in_the_public_schema():
    shared = set(settings.SHARED_APPS)
    configs = {config.name: config for config in apps.get_app_configs()}
    tenant_only = {
        model._meta.db_table
        for app in settings.TENANT_APPS
        if app not in shared
        for model in configs[app].get_models(include_auto_created=True)
    }
    assert "partners_partnership" in tenant_only, "the check would prove nothing"
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        public_tables = {row[0] for row in cursor.fetchall()}
    assert not public_tables & tenant_only
