"""The console's names for the HTTP kit's error pieces (``oathdesk.http``): routes import
``status_for`` and ``error_response`` from here or from the kit alike."""

from oathdesk.http.errors import error_response, install_handlers, is_api
from oathdesk.http.status import status_for

__all__ = ["error_response", "install_handlers", "is_api", "status_for"]
