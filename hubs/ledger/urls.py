from django.urls import URLPattern, URLResolver, path

from hubs.ledger import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.ledger_home, name="ledger-home"),
]
