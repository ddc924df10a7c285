"""Tasks that could not be handed to the broker after their transaction committed, kept until they can be."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PendingTask(models.Model):
    """A task whose send failed (the broker was unreachable) after its write committed. ``pending_tasks_resend``
    sends it again, in the schema it was enqueued in, once the broker answers; the row goes when it is sent."""

    task = models.CharField(_("任务"), max_length=200)
    kwargs = models.JSONField(_("参数"), default=dict)
    schema = models.CharField(_("schema"), max_length=63)
    error = models.CharField(_("错误"), max_length=500, blank=True, default="")
    attempts = models.PositiveIntegerField(_("尝试次数"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("待发送任务")
        verbose_name_plural = _("待发送任务")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.task} [{self.schema}] #{self.pk}"
