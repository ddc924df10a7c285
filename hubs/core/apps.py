from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubCoreConfig(AppConfig):
    name = "hubs.core"
    label = "hubcore"
    verbose_name = _("枢纽成员")

    def ready(self) -> None:
        from hubs.core.erasure import erase_in_every_hub
        from huoban.identity.erasure import erasure_hook_register

        erasure_hook_register("hubcore.memberships", erase_in_every_hub)
