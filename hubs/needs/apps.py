from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeedsConfig(AppConfig):
    name = "hubs.needs"
    label = "needs"
    verbose_name = _("民生需求与相亲会")

    def ready(self) -> None:
        from hubs.needs.discovery import public_fairs, public_notice_ideas, public_seeking_funds
        from huoban.discovery import registry

        registry.register("project_notice", public_notice_ideas)
        registry.register("project_seeking_funds", public_seeking_funds)
        registry.register("fair", public_fairs)

        from hubs.needs.erasure import erase_residents_in_every_hub
        from huoban.identity.erasure import erasure_hook_register

        erasure_hook_register("needs.residents", erase_residents_in_every_hub)

        from hubs.needs.retention import RULES
        from huoban.retention import retention_rules_register

        retention_rules_register(RULES)
