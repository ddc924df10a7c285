from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsIndexConfig(AppConfig):
    name = "tenants.applications"
    label = "hub_applications"
    verbose_name = _("跨枢纽申请索引")
    default_auto_field = "django.db.models.BigAutoField"
