from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "hubs.partners"
    label = "partners"
    verbose_name = _("伙伴网络")

    def ready(self) -> None:
        from hubs.partners.discovery import KIND, public_partners
        from huoban.discovery import registry

        registry.register(KIND, public_partners)

        from hubs.partners.retention import RULES
        from huoban.retention import retention_rules_register

        retention_rules_register(RULES)
