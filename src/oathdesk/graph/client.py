"""Every hardware-OATH operation of Graph beta (graph-api.md §3) as one method each.

Listings follow ``@odata.nextLink`` to the end; lookups by serial use ``$filter``; users are
addressed by object id or UPN. The HTTP details (retries, throttling, errors) live in
:class:`~oathdesk.graph.session.GraphSession`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from oathdesk.graph.errors import GraphAuthError, GraphError, GraphNotFound, GraphRequestError
from oathdesk.graph.methods import UserMethod, capped_count
from oathdesk.graph.models import Device, User, unwrap_entity
from oathdesk.graph.session import GraphSession
from oathdesk.graph.tap import IssuedTap, TapInfo, delete_tap, issue_tap, list_taps

DEVICES = "directory/authenticationMethodDevices/hardwareOathDevices"
POLICY = "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/hardwareOath"
USER_FIELDS = "id,displayName,userPrincipalName,userType"
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def literal(value: str) -> str:
    """An OData string literal: single quotes, embedded quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def _segment(value: str) -> str:
    return quote(value, safe="@")


def _user_path(user: str) -> str:
    """``users/{id or UPN}``, or ``me`` for the signed-in user of a delegated token."""
    return "me" if user.lower() == "me" else f"users/{_segment(user)}"


class GraphClient:
    """Graph's hardware OATH API over one :class:`GraphSession`."""

    def __init__(self, session: GraphSession) -> None:
        self.session = session

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inventory (A1-A8) -------------------------------------------------------------
    def list_devices(
        self,
        *,
        status: str | None = None,
        serial: str | None = None,
        assigned_to: str | None = None,
        select: Iterable[str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[Device]:
        """A1: the whole inventory (every page), optionally filtered with ``eq``."""
        clauses = []
        if status:
            clauses.append(f"status eq {literal(status)}")
        if serial:
            clauses.append(f"serialNumber eq {literal(serial)}")
        if assigned_to:
            clauses.append(f"assignedTo/id eq {literal(assigned_to)}")
        params: dict[str, str | int] = {}
        if clauses:
            params["$filter"] = " and ".join(clauses)
        if select:
            params["$select"] = ",".join(select)
        if page_size:
            params["$top"] = page_size
        for item in self.session.pages(DEVICES, what="list the token inventory", params=params):
            yield Device.from_graph(item)

    def get_device(self, device_id: str) -> Device:
        """A2."""
        data = self.session.json(
            "GET", f"{DEVICES}/{_segment(device_id)}", what=f"read device {device_id}"
        )
        return Device.from_graph(data)

    def find_serial(self, serial: str) -> list[Device]:
        """Devices whose serial number is exactly ``serial`` (``$filter``; case kept)."""
        return [d for d in self.list_devices(serial=serial) if d.serial_number == serial]

    def device_by_serial(self, serial: str) -> Device:
        found = self.find_serial(serial)
        if not found:
            raise GraphNotFound(
                f"No token with serial number {serial!r} is in the Entra inventory."
            )
        return found[0]

    def create_device(self, body: dict[str, Any]) -> Device:
        """A3: one token (``body`` holds the secret and is never logged)."""
        try:
            data = self.session.json(
                "POST", DEVICES, what=f"create token {body.get('serialNumber')!r}", body=body
            )
        except GraphError as exc:  # a service echoing the seed must not carry it further
            secret = str(body.get("secretKey") or "")
            if secret and secret.lower() in exc.message.lower():
                exc.message = re.sub(re.escape(secret), "[secret]", exc.message, flags=re.I)
                exc.args = (exc.message,)
            raise
        return Device.from_graph(data)

    def bulk_create(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A4: one ``#$delta`` PATCH; returns Graph's per-item entries as they came (200 or
        201; in any order, so callers match them by ``device.serialNumber``)."""
        data = self.session.json(
            "PATCH",
            DEVICES,
            what=f"bulk-create {len(items)} tokens",
            body={"@context": "#$delta", "value": items},
        )
        value = data.get("value")
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    def update_device(self, device_id: str, changes: dict[str, Any]) -> None:
        """A5: manufacturer, model, timeIntervalInSeconds, hashFunction, displayName."""
        self.session.request(
            "PATCH", f"{DEVICES}/{_segment(device_id)}", what="update the token", body=changes
        )

    def delete_device(self, device_id: str) -> None:
        """A6: the token must be unassigned first."""
        self.session.request("DELETE", f"{DEVICES}/{_segment(device_id)}", what="delete the token")

    def device_assignee(self, device_id: str) -> User | None:
        """A7: the user holding the token, or None."""
        try:
            data = self.session.json(
                "GET", f"{DEVICES}/{_segment(device_id)}/assignTo", what="read the token's user"
            )
        except GraphNotFound:
            return None
        return User.from_graph(data)

    def count_devices(self) -> int:
        """A8 (undocumented ``$count``)."""
        response = self.session.request("GET", f"{DEVICES}/$count", what="count the inventory")
        try:
            return int(response.text.strip())
        except ValueError:
            raise GraphRequestError(
                "The inventory count is not a number.", code="graph.request.bad_reply"
            ) from None

    # -- a user's methods (B1-B9) --------------------------------------------------------
    def _methods(self, user: str) -> str:
        return f"{_user_path(user)}/authentication/hardwareOathMethods"

    def user_methods(self, user: str) -> list[Device]:
        """B1: the user's hardware tokens, each as its inventory device."""
        return [
            Device.from_graph(m)
            for m in self.session.pages(self._methods(user), what=f"list {user}'s tokens")
        ]

    def user_method(self, user: str, method_id: str) -> Device:
        """B2."""
        data = self.session.json(
            "GET", f"{self._methods(user)}/{_segment(method_id)}", what="read the user's token"
        )
        return Device.from_graph(data)

    def user_method_entries(self, user: str) -> list[UserMethod]:
        """B1 with ``$expand=device``: each method's own id beside its device's id."""
        return [
            UserMethod.from_graph(m)
            for m in self.session.pages(
                self._methods(user), what=f"list {user}'s tokens", params={"$expand": "device"}
            )
        ]

    def all_methods(self, user: str) -> list[dict[str, Any]]:
        """Every authentication method of the user (``/authentication/methods``), as Graph
        sends them: tell the kinds apart by ``@odata.type``."""
        path = f"{_user_path(user)}/authentication/methods"
        return list(self.session.pages(path, what=f"list {user}'s authentication methods"))

    def oath_method_count(self, user: str) -> int | None:
        """How many of the five OATH places the user fills (hardware tokens and authenticator
        apps), or None when this app may not read the full method list."""
        try:
            return capped_count(self.all_methods(user))
        except GraphAuthError as exc:
            if exc.status != 403:  # a failed sign-in is an error, not a missing permission
                raise
            return None

    def method_id_for(self, user: str, device: Device) -> str:
        """The id of the user's method whose ``device.id`` is ``device.id``.

        Never by serial: a user may hold a legacy (CSV) copy and a Graph copy of one serial, and
        acting on the legacy method would leave our token untouched. Never the device id either:
        Entra gives a method its own id. Only an entry without an inline device (which Graph
        may leave out) is taken by an id equal to the device id, as older examples show.
        """
        params: dict[str, str | int] = {"$expand": "device"}
        pages = self.session.pages(self._methods(user), what=f"list {user}'s tokens", params=params)
        for method in pages:
            inner = method.get("device")
            if isinstance(inner, dict):
                if inner.get("id") == device.id and method.get("id"):
                    return str(method["id"])
            elif method.get("id") == device.id:
                return device.id
        raise GraphNotFound(f"Token {device.serial_number!r} is not among {user}'s methods.")

    def assign(self, user: str, device_id: str) -> None:
        """B3: assign without activating. Entra answers the new method's own id, which is not
        the device id; callers find it again with :meth:`method_id_for`."""
        self.session.request(
            "POST",
            self._methods(user),
            what=f"assign the token to {user}",
            body={"device": {"id": device_id}},
        )

    def unassign(self, user: str, method_id: str) -> None:
        """B4: the token goes back to the inventory."""
        self.session.request(
            "DELETE",
            f"{self._methods(user)}/{_segment(method_id)}",
            what=f"unassign the token from {user}",
        )

    # -- Temporary Access Pass (graph/tap.py) -----------------------------------------
    def issue_tap(self, user: str, *, lifetime_minutes: int, usable_once: bool) -> IssuedTap:
        """A new pass for ``user`` (replacing any earlier one); the pass is a Secret."""
        return issue_tap(
            self.session, user, lifetime_minutes=lifetime_minutes, usable_once=usable_once
        )

    def taps(self, user: str) -> list[TapInfo]:
        return list_taps(self.session, user)

    def delete_tap(self, user: str, tap_id: str) -> None:
        delete_tap(self.session, user, tap_id)

    def activate(
        self, user: str, method_id: str, code: str, display_name: str | None = None
    ) -> None:
        """B5: ``code`` is the 6-digit string shown on the token (leading zeros kept)."""
        body: dict[str, Any] = {"verificationCode": code}
        if display_name:
            body["displayName"] = display_name
        self.session.request(
            "POST",
            f"{self._methods(user)}/{_segment(method_id)}/activate",
            what="activate the token",
            body=body,
        )

    def deactivate(self, user: str, method_id: str) -> None:
        """B6: the token stays assigned."""
        self.session.request(
            "POST",
            f"{self._methods(user)}/{_segment(method_id)}/deactivate",
            what="deactivate the token",
        )

    def assign_and_activate(
        self, user: str, device_id: str, code: str, display_name: str | None = None
    ) -> None:
        """B7."""
        body: dict[str, Any] = {"device": {"id": device_id}, "verificationCode": code}
        if display_name:
            body["displayName"] = display_name
        self.session.request(
            "POST",
            f"{self._methods(user)}/assignAndActivate",
            what="assign and activate the token",
            body=body,
        )

    def assign_and_activate_by_serial(
        self, user: str, serial: str, code: str, display_name: str | None = None
    ) -> None:
        """B8."""
        body: dict[str, Any] = {"serialNumber": serial, "verificationCode": code}
        if display_name:
            body["displayName"] = display_name
        self.session.request(
            "POST",
            f"{self._methods(user)}/assignAndActivateBySerialNumber",
            what="assign and activate the token",
            body=body,
        )

    def assign_by_reference(self, user: str, method_id: str, target_user_id: str) -> None:
        """B9: ``PUT .../{methodId}/device/assignTo/$ref`` (prefer :meth:`assign`)."""
        self.session.request(
            "PUT",
            f"{self._methods(user)}/{_segment(method_id)}/device/assignTo/$ref",
            what="assign the token by reference",
            body={"@odata.id": f"{self.session.base_url}/users/{target_user_id}"},
        )

    # -- policy (C1) and users -----------------------------------------------------------
    def get_policy(self) -> dict[str, Any]:
        return self.session.json("GET", POLICY, what="read the hardware OATH policy")

    def set_policy_state(self, enabled: bool) -> None:
        self.session.request(
            "PATCH",
            POLICY,
            what="change the hardware OATH policy",
            body={"state": "enabled" if enabled else "disabled"},
        )

    def organization(self) -> dict[str, str]:
        """The tenant's id and display name (``GET /organization``: ``Organization.Read.All``
        or ``Directory.Read.All``); a missing permission raises Graph's refusal."""
        data = self.session.json("GET", "organization", what="read the organization")
        first = (data.get("value") or [{}])[0]
        return {
            "id": str(first.get("id") or ""),
            "display_name": str(first.get("displayName") or ""),
        }

    def get_user(self, user: str) -> User:
        """A user by object id or UPN. ``userType`` is asked for by name (Graph leaves it out of
        the default properties); with ``User.ReadBasic.All`` only, Graph still leaves it out, and
        ``User.user_type`` is then empty: callers that must tell guests apart check for that."""
        data = self.session.json(
            "GET", _user_path(user), what=f"find user {user}", params={"$select": USER_FIELDS}
        )
        return User.from_graph(unwrap_entity(data))

    def check_member_groups(self, user: str, group_ids: Iterable[str]) -> list[str]:
        """Which of ``group_ids`` the user (id or UPN) is a member of (``checkMemberGroups``,
        transitive in Entra; at most 20 ids per call, so longer lists take several calls)."""
        wanted = list(dict.fromkeys(group_ids))
        found: list[str] = []
        for i in range(0, len(wanted), 20):
            data = self.session.json(
                "POST",
                f"{_user_path(user)}/checkMemberGroups",
                what=f"check {user}'s group memberships",
                body={"groupIds": wanted[i : i + 20]},
            )
            value = data.get("value")
            found += [str(g) for g in value] if isinstance(value, list) else []
        return found

    def find_users(self, query: str) -> list[User]:
        """Users whose UPN or id is ``query``, else whose name or UPN starts with it."""
        text = query.strip()
        if "@" in text or _GUID.fullmatch(text):
            try:
                return [self.get_user(text)]
            except GraphNotFound:
                return []
        params: dict[str, str | int] = {
            "$filter": f"startswith(displayName,{literal(text)}) or "
            f"startswith(userPrincipalName,{literal(text)})",
            "$select": USER_FIELDS,
        }
        try:
            items = list(self.session.pages("users", what="search users", params=params))
            return [User.from_graph(u) for u in items]
        except GraphRequestError as exc:
            if exc.status != 400:
                raise
        # A service that knows only 'eq' (older emulators): list and match here instead.
        lowered = text.lower()
        return [
            user
            for user in (
                User.from_graph(u)
                for u in self.session.pages(
                    "users", what="list users", params={"$select": USER_FIELDS}
                )
            )
            if lowered in user.display_name.lower() or lowered in user.user_principal_name.lower()
        ]

    def users_page(
        self, *, top: int, skiptoken: str | None = None
    ) -> tuple[list[User], str | None]:
        """One page of the directory's users, in Graph's order, and the ``$skiptoken`` of the
        next page (None on the last): a console lists a directory one page at a time."""
        params: dict[str, str | int] = {"$select": USER_FIELDS, "$top": top}
        if skiptoken:
            params["$skiptoken"] = skiptoken
        data = self.session.json("GET", "users", what="list users", params=params)
        items = data.get("value")
        if not isinstance(items, list):
            raise GraphRequestError(
                "Graph's user list has no 'value' list.", code="graph.request.bad_reply"
            )
        link = str(data.get("@odata.nextLink") or "")
        after = parse_qs(urlsplit(link).query).get("$skiptoken", [None])[0] if link else None
        return [User.from_graph(u) for u in items if isinstance(u, dict)], after

    def inventory(self) -> dict[str, Device]:
        """Serial → device for the whole inventory (one listing, ``$select`` of a few fields)."""
        found: dict[str, Device] = {}
        for device in self.list_devices(select=("id", "serialNumber", "status")):
            found.setdefault(device.serial_number, device)
        return found

    def find_serials(self, serials: Iterable[str], *, listing_above: int = 20) -> dict[str, Device]:
        """Which of ``serials`` are in the inventory: a ``$filter`` per serial for a few, one
        full listing for more than ``listing_above``."""
        wanted = list(dict.fromkeys(serials))
        if len(wanted) > listing_above:
            everything = self.inventory()
            return {s: everything[s] for s in wanted if s in everything}
        found: dict[str, Device] = {}
        for serial in wanted:
            matches = self.find_serial(serial)
            if matches:
                found[serial] = matches[0]
        return found
