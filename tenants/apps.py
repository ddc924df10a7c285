from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("枢纽")

    def ready(self) -> None:
        from huoban.retention import retention_rule_register
        from tenants.retention import RULES

        for rule in RULES:
            retention_rule_register(rule)
