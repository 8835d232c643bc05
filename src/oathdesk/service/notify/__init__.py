"""Notifications: mails to users (and an optional webhook) about their tokens, through an outbox.

Why: a user handed a token must learn what to do next, and one whose token was reported lost
must learn it no longer works. Actions queue events (``notify_event``, one call in each
lifecycle action, in its transaction), ``send_pending`` delivers them with retries,
``send_reminders`` nudges users who never activated; docs/notifications.md has the settings,
events, template fields and webhook signature.
"""

from oathdesk.service.notify.events import EVENTS, notify_event
from oathdesk.service.notify.reminders import ReminderReport, send_reminders
from oathdesk.service.notify.sender import SendReport, run_sender, send_pending
from oathdesk.service.notify.settings import NotifySettings
from oathdesk.service.notify.status import outbox_status, send_test, settings_view
from oathdesk.service.notify.templates import FIELDS, Rendered, check_templates, render

__all__ = [
    "EVENTS",
    "FIELDS",
    "NotifySettings",
    "ReminderReport",
    "Rendered",
    "SendReport",
    "check_templates",
    "notify_event",
    "outbox_status",
    "render",
    "run_sender",
    "send_pending",
    "send_reminders",
    "send_test",
    "settings_view",
]
