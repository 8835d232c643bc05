"""Jinja templates of one app plus the kit's shared pieces under ``kit/`` (the page layout,
form macros, the error page).

Why: both apps' pages look alike (skip link, header, sign-out form, footer) and must stay so;
each app keeps its own ``base.html`` that extends ``kit/layout.html`` with its stylesheet and
navigation, and the kit's error page extends that ``base.html``.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates

from oathdesk import __version__
from oathdesk.domain.wording import sentence
from oathdesk.http.dates import when

KIT_TEMPLATES = Path(__file__).parent / "templates"


def make_templates(directory: Path, *, title: str, assets: tuple[str, str]) -> Jinja2Templates:
    """The app's templates in ``directory``, the kit's as ``kit/<name>``; ``app_title`` and
    ``version`` are globals every page can use, ``when`` formats a moment (``http/dates.py``),
    and every page loads ``assets`` (the app's stylesheet and script in its ``/static``) and
    ``local-time.js`` (the app's copy)."""
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(directory),
            jinja2.PrefixLoader({"kit": jinja2.FileSystemLoader(KIT_TEMPLATES)}),
        ]
    )
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape())
    templates = Jinja2Templates(env=env)
    templates.env.globals["app_title"] = title
    templates.env.globals["version"] = __version__
    templates.env.globals["stylesheet"], templates.env.globals["script"] = assets
    templates.env.filters["when"] = when  # every moment a page shows (http/dates.py)
    templates.env.filters["sentence"] = sentence  # a message made elsewhere, as a sentence
    return templates
