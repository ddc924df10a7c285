"""Who holds which roles in this hub (hub schema)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from tenants.models import HubRole

# Roles that run the hub's back office; a hub admin can do everything staff can.
STAFF_ROLES = frozenset({HubRole.HUB_ADMIN, HubRole.STAFF})


class HubMembership(models.Model):
    # DO_NOTHING: Django's cascade would look for this table in the public schema. Memberships are removed hub by
    # hub (through the public HubAccess index) before a user is erased; the foreign key then keeps it honest.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", verbose_name=_("用户")
    )
    roles = ArrayField(models.CharField(max_length=32, choices=HubRole.choices), verbose_name=_("角色"))
    created_at = models.DateTimeField(_("加入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("枢纽成员")
        verbose_name_plural = _("枢纽成员")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user_id}: {','.join(self.roles)}"

    def has_any(self, roles: frozenset[str] | set[str]) -> bool:
        """True if the member holds one of ``roles``; a hub admin counts as staff."""
        held = set(self.roles)
        if HubRole.HUB_ADMIN in held:
            held |= STAFF_ROLES
        return bool(held & set(roles))

    @property
    def role_labels(self) -> list[str]:
        return [str(HubRole(role).label) for role in self.roles]
