"""One human sentence per audit entry: "hal assigned token SN-1 to grace@contoso.com (ticket 42)."

Why: the audit page is read by auditors and help-desk leads, not by the code that wrote it; a row
of ``token.assign`` plus a JSON blob makes them decode every entry by hand. Each action the code
writes has its own summary here (tests/web/test_audit_summary.py checks every action name found
in the source has one); the raw record stays available under each line. A summary never adds
anything that is not already in the entry, so it cannot leak more than the export does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from oathdesk.http.dates import utc_text
from oathdesk.web.audit_summary_delivery import DELIVERY_TEXTS, MIGRATION_TEXTS

Entry = Mapping[str, Any]
Summary = Callable[[Entry], str]

# how an actor's prefix reads in a sentence (the actor string is "<source>:<name>")
_SOURCES = {
    "local": "{}",
    "entra": "{}",
    "api": "API token {}",
    "cli": "{} (command line)",
    "customer": "customer {}",
    "address": "someone at {}",
    "system": "oathdesk ({})",
}


def who(actor: str | None) -> str:
    """The actor as a sentence names it: ``local:hal`` reads ``hal``."""
    if not actor:
        return "someone"
    source, sep, name = actor.partition(":")
    if not sep or source not in _SOURCES or not name:
        return actor
    return _SOURCES[source].format(name)


def _d(entry: Entry) -> Mapping[str, Any]:
    details = entry.get("details")
    return details if isinstance(details, Mapping) else {}


def _subject(entry: Entry, prefix: str = "") -> str:
    """The subject without its kind (``account:hal`` -> ``hal``), or a dash."""
    subject = str(entry.get("subject") or "")
    if prefix and subject.startswith(prefix):
        subject = subject[len(prefix) :]
    return subject or "—"


def _names(value: Any, empty: str = "none") -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or empty
    return str(value) if value not in (None, "") else empty


def _of(entry: Entry, key: str = "user") -> str:
    """`` of grace@…`` when the entry names a holder, else nothing."""
    holder = _d(entry).get(key)
    return f" of {holder}" if holder else ""


def _token(entry: Entry) -> str:
    return f"token {_subject(entry)}"


# -- token lifecycle ----------------------------------------------------------------------------
def _assign(e: Entry) -> str:
    d = _d(e)
    text = f"{who(e.get('actor'))} assigned {_token(e)} to {d.get('user') or d.get('user_id')}"
    return text + (f" as the replacement for {d['replaces']}" if d.get("replaces") else "")


def _activate(e: Entry) -> str:
    d = _d(e)
    text = f"{who(e.get('actor'))} activated {_token(e)}{_of(e)} in Entra"
    if d.get("code") == "from the sealed seed":
        text += " with a code made from its sealed seed"
    return text + (f", shown as “{d['display_name']}”" if d.get("display_name") else "")


def _activation_failed(e: Entry) -> str:
    d = _d(e)
    where = "Entra refused" if d.get("where") == "entra" else "oathdesk refused"
    outcome = f" ({d['outcome']})" if d.get("outcome") else ""
    return f"{who(e.get('actor'))} tried to activate {_token(e)}{_of(e)}; {where} the code{outcome}"


def _replace(e: Entry) -> str:
    d = _d(e)
    why = f" ({d['why']})" if d.get("why") else ""
    return (
        f"{who(e.get('actor'))} replaced {_token(e)}{why}{_of(e)} "
        f"with {d.get('replacement') or 'a token from stock'}"
    )


def _resync(e: Entry) -> str:
    drift = _d(e).get("drift")
    steps = f" (drift of {drift} step(s))" if drift is not None else ""
    return f"{who(e.get('actor'))} resynchronised {_token(e)}{steps}"


def _resync_failed(e: Entry) -> str:
    outcome = _d(e).get("outcome")
    tail = f" ({outcome})" if outcome else ""
    return (
        f"{who(e.get('actor'))} could not resynchronise {_token(e)}: the codes were refused{tail}"
    )


def _sync(e: Entry) -> str:
    d = _d(e)
    how = "found it already in Entra" if d.get("already_in_entra") else "created it in Entra"
    job = f" (job {d['job']})" if d.get("job") else ""
    return f"{who(e.get('actor'))} pushed {_token(e)} to Entra and {how}{job}"


def _rename(e: Entry) -> str:
    d = _d(e)
    before = f"“{d['before']}”" if d.get("before") else "no name"
    return f"{who(e.get('actor'))} renamed {_token(e)} from {before} to “{d.get('after') or ''}”"


def _lost(e: Entry) -> str:
    d = _d(e)
    by = f", reported by {d['reported_by']}" if d.get("reported_by") else ""
    return f"{who(e.get('actor'))} marked {_token(e)}{_of(e)} lost{by}"


def _found(e: Entry) -> str:
    d = _d(e)
    back = f", back in stock from {d['previous_user']}" if d.get("previous_user") else ""
    return f"{who(e.get('actor'))} found lost {_token(e)}{_of(e)}{back}"


def _notify_failed(e: Entry) -> str:
    d = _d(e)
    what = "mail" if d.get("channel") == "mail" else "webhook call"
    to = f" to {d['user']}" if d.get("user") and d.get("channel") == "mail" else ""
    return (
        f"{who(e.get('actor'))} gave up the {d.get('event') or ''} {what}{to} about {_token(e)} "
        f"after {d.get('attempts', '?')} attempt(s): {d.get('error') or 'unknown error'}"
    )


def _seed_export(e: Entry) -> str:
    d = _d(e)
    serials = d.get("serials") or []
    shown = ", ".join(str(s) for s in serials[:5]) + (", …" if len(serials) > 5 else "")
    count = d.get("count", len(serials))
    return f"{who(e.get('actor'))} exported the seeds of {count} token(s) ({shown or 'none'})"


def _reconcile(e: Entry) -> str:
    d = _d(e)
    finding = str(d.get("finding") or "a difference").replace("_", " ")
    return f"{who(e.get('actor'))} fixed {_token(e)} after reconcile found: {finding}"


def _reconcile_checked(e: Entry) -> str:
    counts = _d(e).get("counts") or {}
    found = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(counts.items()))
    fixed = " and fixed what was safe" if _d(e).get("fix") else ""
    return f"{who(e.get('actor'))} compared the inventory with Entra{fixed}: " + (
        found or "no difference"
    )


def _simple(verb: str, tail: Summary | None = None) -> Summary:
    """``<actor> <verb> token <serial>`` plus an optional tail."""

    def summary(e: Entry) -> str:
        return f"{who(e.get('actor'))} {verb} {_token(e)}" + (tail(e) if tail else "")

    return summary


def _previous(e: Entry) -> str:
    holder = _d(e).get("previous_user")
    return f" from {holder}" if holder else ""


# -- batches, jobs, keys ------------------------------------------------------------------------
def _batch_import(e: Entry) -> str:
    d = _d(e)
    conflicts = d.get("conflicts") or []
    skipped = f", {len(conflicts)} serial(s) already known" if conflicts else ""
    return (
        f"{who(e.get('actor'))} imported {d.get('added', 0)} token(s) from "
        f"{d.get('file_name') or 'a file'} into batch {_subject(e, 'batch:')}{skipped}"
    )


def _batch_restrict(e: Entry) -> str:
    after = _d(e).get("after") or {}
    users = after.get("users") or []
    group = after.get("group_id")
    if not users and not group:
        scope = "anyone"
    else:
        parts = [f"{len(users)} user(s)"] if users else []
        parts += [f"group {group}"] if group else []
        scope = " and ".join(parts)
    return (
        f"{who(e.get('actor'))} limited self-service claims of batch {_subject(e, 'batch:')} "
        f"to {scope}"
    )


def _push(phase: str) -> Summary:
    def summary(e: Entry) -> str:
        job = _subject(e, "job:")
        if phase != "done":
            return f"{who(e.get('actor'))} {phase} pushing the stock to Entra (job {job})"
        d = _d(e)
        failed = d.get("failed") or []
        return (
            f"{who(e.get('actor'))} finished pushing the stock to Entra (job {job}): "
            f"{d.get('created', 0)} created, {d.get('present', 0)} already there, "
            f"{len(failed)} failed"
        )

    return summary


def _handout(phase: str) -> Summary:
    def summary(e: Entry) -> str:
        d, job = _d(e), _subject(e, "job:")
        how = (
            "assign and activate from the sealed seed" if d.get("activate_from_seed") else "assign"
        )
        if phase == "started":
            return (
                f"{who(e.get('actor'))} started handing out {d.get('rows', 0)} token(s) from "
                f"{d.get('source')} (job {job}; {how})"
            )
        if phase == "resumed":
            return f"{who(e.get('actor'))} resumed hand-out job {job} ({how})"
        return (
            f"{who(e.get('actor'))} finished a run of hand-out job {job}: {d.get('done', 0)} "
            f"done, {d.get('failed', 0)} failed, {d.get('pending', 0)} pending"
        )

    return summary


def _legacy(phase: str) -> Summary:
    def summary(e: Entry) -> str:
        user = _d(e).get("user_id")
        whose = f" of user {user}" if user else ""
        return f"{who(e.get('actor'))} {phase} removing a legacy Entra copy of {_token(e)}{whose}"

    return summary


def _keys(e: Entry) -> str:
    action, d = e.get("action"), _d(e)
    if action == "keys.rotate":
        return f"{who(e.get('actor'))} rotated the sealing key (new key {d.get('new_key')})"
    if action == "keys.retire":
        return f"{who(e.get('actor'))} retired sealing key {d.get('key_id')}"
    return (
        f"{who(e.get('actor'))} re-sealed {d.get('count', 0)} seed(s) under key {d.get('to_key')}"
    )


# -- accounts, sign-in, API tokens, settings, audit --------------------------------------------
def _account(verb: str) -> Summary:
    def summary(e: Entry) -> str:
        d = _d(e)
        name = _subject(e, "account:")
        text = f"{who(e.get('actor'))} {verb} account {name}"
        if e.get("action") == "account.create":
            text += f" with role(s) {_names(d.get('roles'))}"
            text += " (from Entra)" if d.get("source") == "entra" else ""
        elif e.get("action") == "account.roles":
            text += f" from {_names(d.get('before'))} to {_names(d.get('after'))}"
        elif e.get("action") == "account.rename":
            text += f" from {d.get('before')} to {d.get('after')}"
        return text

    return summary


def _signin(e: Entry) -> str:
    d = _d(e)
    via = " with Entra ID" if d.get("method") == "entra" else ""
    where = f" from {d['address']}" if d.get("address") else ""
    return f"{_subject(e, 'account:')} signed in{via}{where}"


def _signin_failed(e: Entry) -> str:
    d = _d(e)
    name = _subject(e, "account:")
    target = "with Entra ID" if name == "(entra)" else f"as {name}"
    where = f" from {d['address']}" if d.get("address") else ""
    code = f" ({d['code']})" if d.get("code") else ""
    return f"A sign-in {target} failed{where}{code}"


def _signin_throttled(e: Entry) -> str:
    where = _d(e).get("address")
    return f"Sign-in from {where or 'an address'} was paused after repeated failures"


def _api_token(verb: str) -> Summary:
    def summary(e: Entry) -> str:
        d = _d(e)
        text = f"{who(e.get('actor'))} {verb} API token {_subject(e, 'api_token:')}"
        if e.get("action") == "api_token.create":
            expires = utc_text(str(d.get("expires_at") or ""))
            text += f" with role(s) {_names(d.get('roles'))}"
            text += f", valid until {expires}" if expires else ""
        return text

    return summary


def _connection(e: Entry) -> str:
    d = _d(e)
    if d.get("ok"):
        result = "every permission is granted"
    elif d.get("missing"):
        result = f"missing {_names(d.get('missing'))}"
    else:
        result = f"it failed ({d.get('error') or 'unknown error'})"
    return f"{who(e.get('actor'))} checked the connection to Entra: {result}"


def _inventory_export(e: Entry) -> str:
    d = _d(e)
    return (
        f"{who(e.get('actor'))} exported {d.get('tokens', '?')} token(s) of the inventory as "
        f"{d.get('format', '?')}, {d.get('with_user', '?')} of them naming their user"
    )


def _audit_export(e: Entry) -> str:
    flt = _d(e).get("filter") or {}
    used = ", ".join(f"{k} {v}" for k, v in sorted(flt.items()) if v)
    return f"{who(e.get('actor'))} exported the audit log" + (f" ({used})" if used else "")


# -- the delivery service's own chain -----------------------------------------------------------
def _delivery(text: str) -> Summary:
    """``{actor}``, ``{subject}`` and detail keys fill the sentence (missing ones read "—")."""

    def summary(e: Entry) -> str:
        values: dict[str, Any] = {k: _names(v, "—") for k, v in _d(e).items()}
        values.update(actor=who(e.get("actor")), subject=_subject(e))
        return text.format_map(_Blank(values))

    return summary


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"


SUMMARIES: dict[str, Summary] = {
    "token.assign": _assign,
    "token.activate": _activate,
    "token.activation_failed": _activation_failed,
    "token.deactivate": _simple("deactivated", lambda e: _of(e)),
    "token.unassign": _simple("took back", lambda e: _previous(e) + " into stock"),
    "token.delete": _simple(
        "deleted", lambda e: _previous(e).replace(" from", " of") + " from Entra and retired it"
    ),
    "token.lost": _lost,
    "token.found": _found,
    "token.replace": _replace,
    "token.resync": _resync,
    "token.resync_failed": _resync_failed,
    "token.sync": _sync,
    "token.rename": _rename,
    "token.seed_export": _seed_export,
    "token.seed_destroyed": _simple("destroyed the seed of"),
    "notify.failed": _notify_failed,
    "reconcile.fix": _reconcile,
    "reconcile.checked": _reconcile_checked,
    "selfservice.refused": lambda e: (
        f"{who(e.get('actor'))} could not claim "
        f"{_token(e) if e.get('subject') else 'a token'}: {_d(e).get('why') or 'refused'}"
    ),
    "batch.import": _batch_import,
    "batch.restrict": _batch_restrict,
    "sync.push.start": _push("started"),
    "sync.push.resume": _push("resumed"),
    "sync.push": _push("done"),
    "handout.start": _handout("started"),
    "handout.resume": _handout("resumed"),
    "handout.finish": _handout("finished"),
    "legacy.cleanup.start": _legacy("started"),
    "legacy.cleanup.done": _legacy("finished"),
    "keys.rotate": _keys,
    "keys.retire": _keys,
    "keys.reseal": _keys,
    "account.create": _account("created"),
    "account.roles": _account("changed the roles of"),
    "account.disable": _account("disabled"),
    "account.rename": _account("renamed"),
    "account.bind": _account("bound its Entra identity to"),
    "auth.signin": _signin,
    "auth.signin_failed": _signin_failed,
    "auth.signin_throttled": _signin_throttled,
    "auth.signout": lambda e: f"{_subject(e, 'account:')} signed out",
    "api_token.create": _api_token("created"),
    "api_token.revoke": _api_token("revoked"),
    "settings.connection_check": _connection,
    "audit.export": _audit_export,
    "inventory.export": _inventory_export,
    **{action: _delivery(text) for action, text in DELIVERY_TEXTS.items()},
    **{action: _delivery(text) for action, text in MIGRATION_TEXTS.items()},
}


def summarise(entry: Entry) -> str:
    """The entry as one sentence, with its reason in brackets; an action written by a newer
    version than this one (or details of an unexpected shape) still reads as "<actor> did
    <action> on <subject>"."""
    action = str(entry.get("action") or "")
    summary = SUMMARIES.get(action)
    text = ""
    if summary is not None:
        try:
            text = summary(entry)
        except (AttributeError, KeyError, TypeError, ValueError):
            text = ""  # details of an older shape: the plain line below, never a broken page
    if not text:
        target = f" on {entry['subject']}" if entry.get("subject") else ""
        text = f"{who(entry.get('actor'))} did {action or 'something'}{target}"
    reason = str(entry.get("reason") or "").strip()
    if reason:
        text += f" ({reason if len(reason) <= 120 else reason[:119] + '…'})"
    return text if text.endswith((".", "…")) else text + "."
