"""URLs of the base domain: the public site, accounts, the operator console and the platform API."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from huoban.web import views as web_views

api_v1: list[URLPattern | URLResolver] = [
    path("", include("huoban.identity.api_urls")),
    path("", include("tenants.api_urls")),
    path("", include("huoban.storage.api_urls")),
    path("", include("billing.operator_api_urls")),
    path("", include("huoban.discovery.api_urls")),
    path("", include("tenants.applications.api_urls")),
    path("schema", SpectacularAPIView.as_view(urlconf=settings.PUBLIC_SCHEMA_URLCONF), name="api-schema"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

urlpatterns = [
    path("", include("tenants.public_urls")),
    path("", include("billing.public_urls")),
    path("healthz", web_views.healthz, name="healthz"),
    path("livez", web_views.livez, name="livez"),
    path("accounts/", include("huoban.identity.urls")),
    path("files/", include("huoban.storage.urls")),
    path("discover/", include("huoban.discovery.urls")),
    path("applications/", include("tenants.applications.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("django-admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]

handler400 = "huoban.web.views.error_400"
handler403 = "huoban.web.views.error_403"
handler404 = "huoban.web.views.error_404"
handler500 = "huoban.web.views.error_500"
