from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiscoveryConfig(AppConfig):
    name = "huoban.discovery"
    label = "discovery"
    verbose_name = _("跨枢纽发现")
