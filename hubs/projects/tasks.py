"""Disclosure reminders on the Charity Law cadence (慈善法 / 慈善组织信息公开办法).

- A project running longer than six months reports publicly at least every three months: when the latest report
  (or the start, if none) is three months old, the implementer and the hub's staff are reminded.
- The final report is due within three months of the end: from the end date until it is submitted, a reminder
  goes out once a month, naming the due date (and saying when it is overdue).

``projects_disclosure_reminders_all`` runs daily from beat and fans out one task per open hub; each hub's task
sends at most one reminder per project, kind and period (``DisclosureReminder``), so reruns send nothing twice.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from hubs.core.models import HubMembership
from hubs.projects.models import DisclosureReminder, Project, ProjectStatus, ReportKind
from hubs.projects.services import organisation_members_emails
from huoban.db import connection
from tenants.models import Hub, HubStatus

logger = logging.getLogger(__name__)

PERIODIC_DAYS = 91  # "at least every three months"
FINAL_DAYS = 92  # "within three months of the end"
LONG_PROJECT_DAYS = 183  # "projects over six months"


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def reminders_due(*, today: date) -> list[tuple[Project, str, str, date]]:
    """(project, kind, period key, due date) for every reminder due today in the current hub."""
    due: list[tuple[Project, str, str, date]] = []
    running = Project.objects.filter(
        status__in=[ProjectStatus.FUNDED, ProjectStatus.IN_PROGRESS, ProjectStatus.COMPLETED]
    )
    for project in running:
        final_exists = project.reports.filter(kind=ReportKind.FINAL).exists()
        if today > project.end_date:
            if not final_exists:
                due_date = add_months(project.end_date, 3)
                months_since_end = (today.year - project.end_date.year) * 12 + today.month - project.end_date.month
                due.append((project, ReportKind.FINAL, f"m{months_since_end}", due_date))
            continue
        if (project.end_date - project.start_date).days <= LONG_PROJECT_DAYS or today < project.start_date:
            continue
        latest = project.reports.order_by("-period_end").values_list("period_end", flat=True).first()
        since = latest or project.start_date
        due_date = add_months(since, 3)
        if today >= due_date - timedelta(days=14):
            due.append((project, ReportKind.PERIODIC, due_date.isoformat(), due_date))
    return due


def _recipients(project: Project) -> list[str]:
    staff = HubMembership.objects.filter(roles__overlap=["hub_admin", "staff"]).values_list("user__email", flat=True)
    return sorted({e for e in [*organisation_members_emails(organisation_id=project.implementer_id), *staff] if e})


@shared_task(acks_late=True)
def projects_disclosure_reminders(today: str | None = None) -> int:
    """Send the disclosure reminders due in the hub this task runs in. Returns how many were sent."""
    hub = connection.tenant
    if not isinstance(hub, Hub):
        raise RuntimeError("projects_disclosure_reminders must run inside a hub")
    day = date.fromisoformat(today) if today else timezone.localdate()
    sent = 0
    for project, kind, period_key, due_date in reminders_due(today=day):
        try:
            with transaction.atomic():
                DisclosureReminder.objects.create(project=project, kind=kind, period_key=period_key)
        except IntegrityError:
            continue  # already sent for this period
        recipients = _recipients(project)
        if not recipients:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            context = {"project": project, "kind": kind, "due_date": due_date, "overdue": day > due_date, "hub": hub}
            subject = render_to_string("projects/email/reminder_subject.txt", context).strip()
            body = render_to_string("projects/email/reminder.txt", context)
        send_mail(subject, body, None, recipients)
        sent += 1
    logger.info("disclosure reminders sent: %s", sent)
    return sent


@shared_task
def projects_disclosure_reminders_all() -> int:
    """Periodic (daily): one reminder task per open hub, each running inside its hub."""
    count = 0
    for hub in Hub.objects.filter(status=HubStatus.ACTIVE).only("schema_name"):
        with hub:
            projects_disclosure_reminders.delay()
        count += 1
    return count
