from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = _("枢纽")

    def ready(self) -> None:
        from tenants.middleware import host_cache_clear
        from tenants.models import Domain, Hub

        # A hub's status, plan or domains changed here: the next request in this process routes with the change.
        for model in (Hub, Domain):
            post_save.connect(host_cache_clear, sender=model, dispatch_uid=f"host-cache-{model.__name__}-save")
            post_delete.connect(host_cache_clear, sender=model, dispatch_uid=f"host-cache-{model.__name__}-delete")

        from huoban.retention import retention_rules_register
        from tenants.retention import RULES

        retention_rules_register(RULES)
