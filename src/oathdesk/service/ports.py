"""What the service needs from Entra, as a small protocol the real Graph client satisfies.

Why: the use cases depend on these few calls only, so they read as the business rules they are
and any client with the same methods (the real ``GraphClient`` against Entra or the emulator)
plugs in; the names and shapes are ``oathdesk.graph.GraphClient``'s own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from oathdesk.graph import Device, User, UserMethod


class EntraPort(Protocol):
    def list_devices(
        self,
        *,
        status: str | None = None,
        serial: str | None = None,
        assigned_to: str | None = None,
        select: Any = None,
        page_size: int | None = None,
    ) -> Iterator[Device]: ...

    def get_device(self, device_id: str) -> Device: ...

    def find_serial(self, serial: str) -> list[Device]: ...

    def create_device(self, body: dict[str, Any]) -> Device: ...

    def delete_device(self, device_id: str) -> None: ...

    def get_user(self, user: str) -> User: ...

    def organization(self) -> dict[str, str]: ...

    def find_users(self, query: str) -> list[User]: ...

    def users_page(
        self, *, top: int, skiptoken: str | None = None
    ) -> tuple[list[User], str | None]: ...

    def check_member_groups(self, user: str, group_ids: Iterable[str]) -> list[str]: ...

    def user_methods(self, user: str) -> list[Device]: ...

    def method_id_for(self, user: str, device: Device) -> str: ...

    def user_method_entries(self, user: str) -> list[UserMethod]: ...

    def assign(self, user: str, device_id: str) -> None: ...

    def unassign(self, user: str, method_id: str) -> None: ...

    def activate(
        self, user: str, method_id: str, code: str, display_name: str | None = None
    ) -> None: ...

    def deactivate(self, user: str, method_id: str) -> None: ...

    def assign_and_activate(
        self, user: str, device_id: str, code: str, display_name: str | None = None
    ) -> None: ...

    def oath_method_count(self, user: str) -> int | None: ...

    def close(self) -> None: ...
