"""The HTTP kit both web apps (the console in ``oathdesk.web`` and the delivery app in
``oathdesk.delivery.web_*``) are built with: error answers and the status of each error code,
security headers, signed cookies, CSRF tokens, ``require(roles)``, sign-in and sign-out, and
the shared template pieces.

Why: the two apps must behave the same wherever they do the same thing; each passes its own
values (cookie prefix, lifetimes, home page, headers) through a :class:`Site`. The kit may use
``domain``, ``config`` and ``service`` but never ``oathdesk.web`` or ``oathdesk.delivery``.
"""

from oathdesk.http.auth import MaybeSignedIn, SignedIn, client_address, current_principal, require
from oathdesk.http.cookies import CookiePolicy, clear_cookie, read_cookie, set_cookie
from oathdesk.http.csrf import FormCsrf, check_form_token, csrf_token, form_token
from oathdesk.http.errors import error_response, install_handlers, retry_headers
from oathdesk.http.headers import CSP, SecurityHeaders
from oathdesk.http.principal import Principal
from oathdesk.http.signin import (
    password_sign_in,
    render_form,
    safe_next,
    sign_out,
    signin_routes,
    start_session,
)
from oathdesk.http.site import Site, install, site_of
from oathdesk.http.status import status_for
from oathdesk.http.templating import make_templates

__all__ = [
    "CSP",
    "CookiePolicy",
    "FormCsrf",
    "MaybeSignedIn",
    "Principal",
    "SecurityHeaders",
    "SignedIn",
    "Site",
    "check_form_token",
    "clear_cookie",
    "client_address",
    "csrf_token",
    "current_principal",
    "error_response",
    "form_token",
    "install",
    "install_handlers",
    "make_templates",
    "password_sign_in",
    "read_cookie",
    "render_form",
    "require",
    "retry_headers",
    "safe_next",
    "set_cookie",
    "sign_out",
    "signin_routes",
    "site_of",
    "start_session",
    "status_for",
]
