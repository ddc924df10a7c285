"""URLs of a hub's host. Every view here goes through the hub access checks (hubs.core.permissions)."""

from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from huoban.web import views as web_views

api_v1: list[URLPattern | URLResolver] = [
    path("", include("huoban.identity.api_urls")),
    path("", include("tenants.api_urls")),
    path("", include("hubs.core.api_urls")),
    path("", include("huoban.storage.api_urls")),
    path("", include("hubs.partners.api_urls")),
    path("", include("billing.api_urls")),
    path("", include("hubs.ledger.api_urls")),
    path("", include("hubs.projects.api_urls")),
    path("", include("hubs.pool.api_urls")),
    path("", include("hubs.needs.api_urls")),
    path("", include("hubs.calls.api_urls")),
    # The index is cross-hub public data; a hub's users search it from their own host too.
    path("", include("huoban.discovery.api_urls")),
    path("schema", SpectacularAPIView.as_view(urlconf=settings.ROOT_URLCONF), name="api-schema"),
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", include("hubs.core.urls")),
    path("files/", include("huoban.storage.urls")),
    path("partners/", include("hubs.partners.urls")),
    path("billing/", include("billing.urls")),
    path("ledger/", include("hubs.ledger.urls")),
    path("projects/", include("hubs.projects.urls")),
    path("pool/", include("hubs.pool.urls")),
    path("needs/", include("hubs.needs.urls")),
    path("calls/", include("hubs.calls.urls")),
    path("healthz", web_views.healthz, name="healthz"),
    path("livez", web_views.livez, name="livez"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
]

handler400 = "huoban.web.views.error_400"
handler403 = "huoban.web.views.error_403"
handler404 = "huoban.web.views.error_404"
handler500 = "huoban.web.views.error_500"
