from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolConfig(AppConfig):
    name = "hubs.pool"
    label = "pool"
    verbose_name = _("伙伴互助金")
