from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubCoreConfig(AppConfig):
    name = "hubs.core"
    label = "hubcore"
    verbose_name = _("枢纽成员")
