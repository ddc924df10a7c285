"""The cross-hub index (public schema), the outbox that is its only writer, and people's saved searches.

Hub code never writes ``DiscoveryEntry``: it calls ``discovery_publish`` / ``discovery_unpublish`` inside its own
transaction, which adds a ``DiscoveryOutbox`` row next to its change; a drain task applies the rows after commit.
An entry therefore never shows something its hub rolled back. Entries carry their hub's id (and a snapshot of its
slug and names) and only ever the public fields of the item they describe.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EntryKind(models.TextChoices):
    CALL = "call", _("项目征集")
    PROJECT_NOTICE = "project_notice", _("项目公示")
    PROJECT_SEEKING_FUNDS = "project_seeking_funds", _("寻求资助的项目")
    FUNDED_PROJECT = "funded_project", _("已资助项目")
    PARTNER = "partner", _("提供帮助的伙伴")
    FAIR = "fair", _("公益项目相亲会")


class EntryStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    UPCOMING = "upcoming", _("即将开始")
    CLOSED = "closed", _("已截止")
    # A tombstone: the item was unpublished. The row keeps only its key and sequence number, so an older publish
    # applied late by another drain worker cannot bring the item back.
    WITHDRAWN = "withdrawn", _("已撤下")


# What search shows: open and upcoming items (and only until their deadline has passed).
LISTED_STATUSES = (EntryStatus.OPEN.value, EntryStatus.UPCOMING.value)
PUBLISHABLE_STATUSES = (EntryStatus.OPEN.value, EntryStatus.UPCOMING.value, EntryStatus.CLOSED.value)


class ServiceArea(models.TextChoices):
    """The platform's tag vocabulary for service areas (the same values hubs use for partners)."""

    ELDERLY = "elderly", _("养老")
    CHILDREN = "children", _("儿童")
    YOUTH = "youth", _("青少年")
    DISABILITY = "disability", _("助残")
    DISASTER_RELIEF = "disaster_relief", _("救灾")
    EDUCATION = "education", _("教育")
    COMMUNITY = "community", _("社区")
    ENVIRONMENT = "environment", _("环保")
    HEALTH = "health", _("医疗健康")
    POVERTY = "poverty", _("扶贫济困")
    CULTURE = "culture", _("文化")
    LEGAL_AID = "legal_aid", _("法律援助")
    VOLUNTEERING = "volunteering", _("志愿服务")
    OTHER = "other", _("其他")


def service_area_bits(areas: list[str] | tuple[str, ...]) -> int:
    values = ServiceArea.values
    return sum(1 << values.index(a) for a in set(areas) if a in values)


class DiscoveryEntry(models.Model):
    """One public item of one hub, as search sees it. Written only by the outbox drain."""

    hub_id = models.BigIntegerField(_("枢纽"))
    hub_slug = models.CharField(_("枢纽标识"), max_length=30)
    hub_name = models.CharField(_("枢纽名称"), max_length=200)
    hub_name_en = models.CharField(_("枢纽英文名称"), max_length=200, blank=True)
    kind = models.CharField(_("类型"), max_length=32, choices=EntryKind.choices, blank=True)
    source_app = models.CharField(_("来源应用"), max_length=50)
    source_id = models.CharField(_("来源对象"), max_length=64)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    summary = models.TextField(_("摘要"), blank=True)
    region_code = models.CharField(_("地区代码"), max_length=6, blank=True)
    # The region and its enclosing province and city (GB/T 2260), so a filter on a province finds its cities'
    # and districts' entries with one indexed containment test.
    region_path = ArrayField(models.CharField(max_length=6), default=list, blank=True, verbose_name=_("地区层级"))
    service_areas = ArrayField(
        models.CharField(max_length=32, choices=ServiceArea.choices),
        default=list,
        blank=True,
        verbose_name=_("服务领域"),
    )
    # The same areas as bits (bit i: ServiceArea.values[i]): facet counts in one pass instead of an unnest.
    service_area_bits = models.IntegerField(default=0)
    amount = models.BigIntegerField(_("金额（分）"), null=True, blank=True)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    opens_on = models.DateField(_("开始日期"), null=True, blank=True)
    closes_on = models.DateField(_("结束日期"), null=True, blank=True)
    deadline = models.DateField(_("截止日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=EntryStatus.choices)
    link_url = models.URLField(_("链接"), max_length=500, blank=True)
    # sha256 of the normalised public payload: how drift checks tell a stale entry from a current one.
    content_hash = models.CharField(max_length=64, blank=True)
    # jieba-segmented title (A), summary (B) and region and service-area names (C), 'simple' configuration.
    search_vector = SearchVectorField(null=True, blank=True)
    # The id of the outbox row that wrote this version; older rows are never applied over newer ones.
    seq = models.BigIntegerField(default=0)
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("发现条目")
        verbose_name_plural = _("发现条目")
        constraints = [
            models.UniqueConstraint(fields=["hub_id", "source_app", "source_id"], name="discovery_entry_source_unique"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="discovery_amount_gte_0"),
        ]
        indexes = [
            # Search only ever reads listed entries: closed ones and tombstones stay out of the index.
            GinIndex(
                fields=["search_vector"], condition=Q(status__in=LISTED_STATUSES), name="discovery_entry_listed_gin"
            ),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="discovery_entry_title_trgm"),
            GinIndex(fields=["region_path"], name="discovery_entry_region_gin"),
            GinIndex(fields=["service_areas"], name="discovery_entry_areas_gin"),
            models.Index(
                fields=["deadline", "id"], condition=Q(status__in=LISTED_STATUSES), name="discovery_entry_deadline"
            ),
            models.Index(fields=["published_at"], name="discovery_entry_published"),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.source_app}:{self.source_id}"

    @property
    def hub_display_name(self) -> str:
        from django.utils.translation import get_language

        return self.hub_name_en if (get_language() or "").startswith("en") and self.hub_name_en else self.hub_name

    @property
    def service_area_labels(self) -> list[str]:
        return [str(ServiceArea(a).label) for a in self.service_areas if a in ServiceArea.values]

    @property
    def url(self) -> str:
        """Where to read more: the item's own page, else its hub's public site."""
        if self.link_url:
            return self.link_url
        port = f":{settings.HUOBAN_URL_PORT}" if settings.HUOBAN_URL_PORT else ""
        return f"{settings.HUOBAN_URL_SCHEME}://{self.hub_slug}.{settings.HUOBAN_BASE_DOMAIN}{port}/"

    @property
    def amount_yuan(self) -> str:
        """The amount in yuan for display (integer fen in, never floats): 1234500 → "12,345"."""
        if self.amount is None:
            return ""
        yuan, fen = divmod(self.amount, 100)
        return f"{yuan:,}" + (f".{fen:02d}" if fen else "")


class OutboxOp(models.TextChoices):
    PUBLISH = "publish", "publish"
    UNPUBLISH = "unpublish", "unpublish"
    HUB_VISIBILITY = "hub_visibility", "hub visibility"


class DiscoveryOutbox(models.Model):
    """A change to the index, written in the same transaction as the change it describes; applied in id order
    by ``outbox.discovery_outbox_drain`` and then deleted."""

    op = models.CharField(max_length=16, choices=OutboxOp.choices)
    hub_id = models.BigIntegerField()
    source_app = models.CharField(max_length=50, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)  # only public fields: see services.PUBLIC_FIELDS
    created_at = models.DateTimeField(default=timezone.now)
    # set when the drain could not apply the row: it stays here, skipped, until a rebuild replaces it
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("发现索引待办")
        verbose_name_plural = _("发现索引待办")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.op} {self.hub_id}:{self.source_app}:{self.source_id}"


class DiscoveryHub(models.Model):
    """Whether a hub's entries may be shown. A suspended or archived hub is hidden, its entries kept, so it
    comes back in full when it reopens. Hubs without a row are visible."""

    hub_id = models.BigIntegerField(primary_key=True)
    visible = models.BooleanField(default=True)
    seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("枢纽发现状态")
        verbose_name_plural = _("枢纽发现状态")

    def __str__(self) -> str:
        return f"hub {self.hub_id}: {'visible' if self.visible else 'hidden'}"


class SavedSearch(models.Model):
    """A search someone wants to come back to, optionally with a daily email of what is new since the last one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="discovery_saved_searches"
    )
    name = models.CharField(_("名称"), max_length=100)
    params = models.JSONField(_("搜索条件"), default=dict)
    email_digest = models.BooleanField(_("邮件推送"), default=False)
    last_sent_at = models.DateTimeField(_("上次推送"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("保存的搜索")
        verbose_name_plural = _("保存的搜索")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["email_digest", "last_sent_at"], name="discovery_saved_digest")]

    def __str__(self) -> str:
        return self.name


class DiscoveryInterest(models.Model):
    """What a person (an organisation member or a funder) cares about; ``discovery_recommend`` ranks by it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="discovery_interest"
    )
    service_areas = ArrayField(models.CharField(max_length=32, choices=ServiceArea.choices), default=list, blank=True)
    region_codes = ArrayField(models.CharField(max_length=6), default=list, blank=True)
    kinds = ArrayField(models.CharField(max_length=32, choices=EntryKind.choices), default=list, blank=True)
    amount_min = models.BigIntegerField(_("最低金额（分）"), null=True, blank=True)
    amount_max = models.BigIntegerField(_("最高金额（分）"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("关注领域")
        verbose_name_plural = _("关注领域")

    def __str__(self) -> str:
        return f"interests of {self.user_id}"
