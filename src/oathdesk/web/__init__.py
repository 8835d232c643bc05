"""The web console and REST API: sign-in, sessions, CSRF, roles, dashboard and inventory pages.

See docs/web.md. ``create_app(inventory, settings)`` builds one application; nothing is global.
"""

from oathdesk.web.app import create_app, create_app_from_config
from oathdesk.web.security import Principal
from oathdesk.web.settings import WebSettings

__all__ = ["Principal", "WebSettings", "create_app", "create_app_from_config"]
