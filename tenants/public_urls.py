from django.urls import path

from tenants import views

urlpatterns = [
    path("", views.home, name="home"),
    path("console/", views.console, name="console"),
    path("console/hubs/new/", views.console_provision, name="console-provision"),
    path("console/hubs/<slug:slug>/", views.console_hub, name="console-hub"),
    path("console/audit/", views.console_audit, name="console-audit"),
]
