from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "hubs.calls"
    label = "calls"
    verbose_name = _("项目征集")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hubs.calls.discovery import KIND, public_calls
        from huoban.discovery import registry

        registry.register(KIND, public_calls)
