"""The notification texts: one template per event (a ``Subject:`` line, a blank line, the plain
text body), rendered in Jinja2's sandbox from the documented fields alone.

Why a sandbox and a closed set of fields: templates are edited by administrators
(``[notify] templates_dir`` overrides any shipped one by file name), so a template must not reach
Python objects or read anything but the fields below; an unknown field is an error
(``notify.template_invalid``) rather than an empty gap in a user's mail. No field holds a seed,
a code or a password, so no template can put one in a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oathdesk.service.errors import ServiceError
from oathdesk.service.notify.settings import NotifySettings

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment

SHIPPED = Path(__file__).with_name("templates")
EVENTS = ("assign", "handout", "replace", "lost", "found", "reminder", "test")
# the only names a template sees (docs/notifications.md, "Templates")
FIELDS: dict[str, str] = {
    "display_name": "the user's display name in Entra (their UPN when Entra has none)",
    "upn": "the user's sign-in name (the address the mail goes to)",
    "serial": "the token's serial number (for replace: the new token)",
    "model": "the token's model, empty when the seed file named none",
    "event_time": "when the action happened, UTC, as 2026-12-03 19:35 UTC",
    "active": "true when the token already signs the user in (activated)",
    "old_serial": "replace: the token that no longer works; empty for other events",
    "days": "reminder: whole days since the token was assigned; 0 for other events",
    "portal_url": "[notify] portal_url: where users activate their token",
    "helpdesk": "[notify] helpdesk_contact: how to reach the help desk",
}


@dataclass(frozen=True)
class Rendered:
    """A message's subject (one line) and plain-text body."""

    subject: str
    body: str


def environment(settings: NotifySettings) -> SandboxedEnvironment:
    """Templates from ``templates_dir`` first (an override by file name), then the shipped ones.
    Jinja2 loads here, on first use: every command line that never renders a message (and the
    lifecycle, which imports this package) starts without it."""
    from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    loaders = [FileSystemLoader(str(SHIPPED))]
    if settings.templates_dir is not None:
        loaders.insert(0, FileSystemLoader(str(settings.templates_dir)))
    return SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=False,  # plain text, never HTML
        keep_trailing_newline=True,
        trim_blocks=True,
    )


def context(settings: NotifySettings, fields: dict[str, Any]) -> dict[str, Any]:
    """The documented fields only: what the outbox row holds plus the two settings."""
    known = {name: fields.get(name) for name in FIELDS}
    known["display_name"] = known["display_name"] or known["upn"] or ""
    known["active"] = bool(known["active"])
    known["days"] = int(known["days"] or 0)
    known["old_serial"] = known["old_serial"] or ""
    known["model"] = known["model"] or ""
    known["portal_url"] = settings.portal_url
    known["helpdesk"] = settings.helpdesk_contact
    return {name: _one_line(value) for name, value in known.items()}


def _one_line(value: Any) -> Any:
    """A field as the template gets it: text on one line (a name from Entra with a line break
    must not start a new header or paragraph), nothing for None."""
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split())
    return value


def render(settings: NotifySettings, event: str, fields: dict[str, Any]) -> Rendered:
    """The message for ``event``; ``notify.template_invalid`` names the template and the
    problem when it cannot be rendered (a syntax error, an unknown field, no ``Subject:``)."""
    from jinja2 import TemplateError

    name = f"{event}.txt"
    try:
        text = environment(settings).get_template(name).render(context(settings, fields))
    except TemplateError as exc:
        raise _invalid(settings, name, f"{type(exc).__name__}: {exc.message or ''}") from None
    head, _sep, body = text.partition("\n")
    if not head.lower().startswith("subject:"):
        raise _invalid(settings, name, "the first line must be 'Subject: ...'")
    subject = " ".join(head.split(":", 1)[1].split())  # one line: no header can be added
    if not subject:
        raise _invalid(settings, name, "the subject is empty")
    return Rendered(subject=subject, body=body.lstrip("\n").rstrip() + "\n")


def check_templates(settings: NotifySettings) -> list[str]:
    """Render every event's template with sample fields; the problems found (empty: all good)."""
    sample = {
        "display_name": "Ada Example",
        "upn": "ada@example.com",
        "serial": "SN-0001",
        "model": "OTP c200",
        "event_time": "2026-12-03 19:35 UTC",
        "active": False,
        "old_serial": "SN-0000",
        "days": 7,
    }
    problems: list[str] = []
    for event in EVENTS:
        try:
            render(settings, event, sample)
        except ServiceError as exc:
            problems.append(exc.message)
    return problems


def _invalid(settings: NotifySettings, name: str, problem: str) -> ServiceError:
    where = settings.templates_dir or SHIPPED
    return ServiceError(
        f"The notification template {name} (in {where}) cannot be used: {problem.rstrip('.')}. "
        "Fix the "
        "template; messages wait in the outbox until it renders.",
        code="notify.template_invalid",
        details={"template": name},
    )
