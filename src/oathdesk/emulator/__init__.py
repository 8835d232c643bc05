"""A local Entra ID for the hardware-OATH Graph API: rehearse imports without touching a tenant.

Thin routes over a rich state object (the moto shape). One sentence per module:

- ``state``: everything one emulator knows (directory, config, clock, keys, faults), saved.
- ``directory``: the inventory and user-method rules (status machine, cap, guests, activation).
- ``model``: the records and their Graph and on-disk shapes; secrets only reach the disk.
- ``seed``: the seed document, its validation and the default tenant.
- ``query``: the OData subset (``eq``/``and`` filters, ``$select``, ``$top``, skip tokens).
- ``permissions``: the permission table of graph-api.md §3.
- ``tokens``: RS256 Entra-shaped tokens and the bearer check.
- ``identity``: the token service's rules (client auth, scopes, PKCE, token responses).
- ``faults``: injected failures and the per-app request budget.
- ``tls``: the local CA and server certificate; ``files``: atomic writes.
- ``errors``: Graph-shaped and STS-shaped refusals.
- ``app``: builds the ASGI app; ``common``: request plumbing and the error envelope.
- ``routes_*``: devices (A1–A8, C1), methods (B1–B9), users, batch, identity, sign-in pages,
  control plane.
- ``server``: serving over HTTPS from a data folder, or in a thread for tests.
"""

from oathdesk.emulator.app import create_app
from oathdesk.emulator.errors import GraphError, OAuthError
from oathdesk.emulator.seed import default_seed
from oathdesk.emulator.server import RunningEmulator
from oathdesk.emulator.state import EmulatorConfig, EmulatorState

__all__ = [
    "EmulatorConfig",
    "EmulatorState",
    "GraphError",
    "OAuthError",
    "RunningEmulator",
    "create_app",
    "default_seed",
]
