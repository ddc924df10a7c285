"""Sending SMS. The provider is chosen by ``HUOBAN_SMS_BACKEND`` (a dotted path to an ``SmsSender``); the
embedded default and the tests use ``ConsoleSmsSender``, which logs each message and keeps it in ``outbox``
(like Django's locmem mail backend) so a test or the demo can read the code."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str


class SmsSender(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


outbox: list[SmsMessage] = []
_lock = threading.Lock()


class ConsoleSmsSender:
    """Prints the message to the log and appends it to ``outbox`` (kept to the last 1,000 messages)."""

    def send(self, *, phone: str, text: str) -> None:
        with _lock:
            outbox.append(SmsMessage(phone=phone, text=text))
            del outbox[:-1000]
        logger.info("sms to %s: %s", phone[:3] + "****" + phone[-4:], text)


def sms_sender() -> SmsSender:
    path = getattr(settings, "HUOBAN_SMS_BACKEND", "") or "huoban.sms.ConsoleSmsSender"
    sender: SmsSender = import_string(path)()
    return sender


def last_code_for(phone: str) -> str | None:
    """The code in the newest message sent to ``phone`` (console backend only): for tests and the demo."""
    with _lock:
        for message in reversed(outbox):
            if message.phone == phone:
                found = re.search(r"(?<!\d)\d{6}(?!\d)", message.text)
                return found.group(0) if found else None
    return None
