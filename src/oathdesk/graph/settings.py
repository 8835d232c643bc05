"""Where Graph and the sign-in service are, and who we are: ``[graph]`` and ``OATHDESK_GRAPH_*``.

The same settings serve real Entra (global or a national cloud) and the emulator: only the
authority host, the Graph base URL and an extra trusted CA differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from oathdesk.config import Config
from oathdesk.domain import ConfigError, Secret
from oathdesk.shared_settings import DEFAULT_AUTHORITY_HOST, authority_host, existing_ca

DEFAULT_BASE_URL = "https://graph.microsoft.com/beta"
# Graph hosts of the national clouds; any other host (the emulator) uses the global resource.
GRAPH_RESOURCES = {
    "graph.microsoft.com": "https://graph.microsoft.com",
    "graph.microsoft.us": "https://graph.microsoft.us",
    "dod-graph.microsoft.us": "https://dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn": "https://microsoftgraph.chinacloudapi.cn",
}
DELEGATED_SCOPES = (
    "Policy.ReadWrite.AuthenticationMethod",
    "UserAuthenticationMethod.ReadWrite.All",
    "User.Read.All",
)


@dataclass(frozen=True)
class GraphSettings:
    """Connection settings; ``client_secret`` is a :class:`Secret` so it never prints."""

    tenant_id: str
    client_id: str
    client_secret: Secret | None = None
    certificate_file: Path | None = None
    authority_host: str = DEFAULT_AUTHORITY_HOST
    base_url: str = DEFAULT_BASE_URL
    ca_file: Path | None = None

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def resource(self) -> str:
        host = (urlsplit(self.base_url).hostname or "").lower()
        return GRAPH_RESOURCES.get(host, GRAPH_RESOURCES["graph.microsoft.com"])

    @property
    def app_scopes(self) -> list[str]:
        return [f"{self.resource}/.default"]

    @property
    def delegated_scopes(self) -> list[str]:
        return [f"{self.resource}/{name}" for name in DELEGATED_SCOPES]

    @classmethod
    def from_config(
        cls,
        config: Config,
        *,
        emulator: str | None = None,
        ca_file: Path | None = None,
        delegated: bool = False,
    ) -> GraphSettings:
        """Read ``[graph]``; ``emulator`` (a URL) points authority and Graph at an emulator."""
        host = authority_host(config)
        base_url = config.text("graph", "base_url") or DEFAULT_BASE_URL
        emulator = emulator or config.text("graph", "emulator")  # OATHDESK_GRAPH_EMULATOR too
        if emulator:
            host = emulator.rstrip("/")
            base_url = f"{emulator.rstrip('/')}/beta"
        tenant_id = config.text("graph", "tenant_id")
        client_id = config.text("graph", "client_id")
        missing = [k for k, v in (("tenant_id", tenant_id), ("client_id", client_id)) if not v]
        if tenant_id is None or client_id is None:
            names = ", ".join(f"OATHDESK_GRAPH_{k.upper()}" for k in missing)
            raise ConfigError(
                f"Graph is not configured: set {' and '.join(missing)} in [graph] of "
                f"oathdesk.toml or the variables {names}.",
                code="config.graph_missing",
            )
        secret = config.text("graph", "client_secret")
        certificate = config.path("graph", "certificate_file")
        if not delegated and not secret and not certificate:
            raise ConfigError(
                "Graph needs a credential: set client_secret or certificate_file in [graph] "
                "(or OATHDESK_GRAPH_CLIENT_SECRET / OATHDESK_GRAPH_CERTIFICATE_FILE), or sign "
                "in as a user with --device-code.",
                code="config.graph_credential_missing",
            )
        for name, url in (("authority_host", host), ("base_url", base_url)):
            if urlsplit(url).scheme != "https":
                raise ConfigError(
                    f"[graph] {name} must be an https:// URL, not {url!r}.",
                    code="config.graph_not_https",
                )
        ca = existing_ca(ca_file or config.path("graph", "ca_file"))
        return cls(
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=Secret(secret.encode()) if secret else None,
            certificate_file=certificate,
            authority_host=host,
            base_url=base_url.rstrip("/"),
            ca_file=ca,
        )
