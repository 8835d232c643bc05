"""The ``oathdesk`` command line: Typer + Rich, ``--json`` output, stable exit statuses."""
