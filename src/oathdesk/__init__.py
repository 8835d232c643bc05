"""oathdesk: the whole life of hardware OATH tokens for Microsoft Entra ID."""

__version__ = "0.1.0"
