"""What the operations endpoints ask the database: is it there, is it at the migrations' head,
and how many tokens and jobs are in each state.

Why in the store: the readiness probe and the metrics scrape need a few cheap, read-only
queries (one ``SELECT 1``, one revision read, two ``GROUP BY`` over indexed state columns)
that must not open a unit of work, take a write lock or touch the audit chain.
"""

from __future__ import annotations

import os
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from oathdesk.store.engine import MIGRATIONS, Database
from oathdesk.store.import_jobs import ImportJobRow
from oathdesk.store.models import Job, Token


@cache
def _script() -> ScriptDirectory:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", os.fspath(MIGRATIONS))
    return ScriptDirectory.from_config(cfg)


def head_revision() -> str | None:
    """The newest migration this code ships (what ``oathdesk db upgrade`` leads to)."""
    return _script().get_current_head()


def known_revision(revision: str) -> bool:
    """Whether this code ships ``revision`` (a database migrated by a newer version is not)."""
    return any(script.revision == revision for script in _script().walk_revisions())


def state_counts(db: Database, tenant: str) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Tokens by state and jobs by (kind, state) of ``tenant``; import jobs are kind ``import``."""
    with db.engine.connect() as conn:
        tokens = {
            str(getattr(state, "value", state)): count
            for state, count in conn.execute(
                select(Token.state, func.count())
                .where(Token.tenant == tenant)
                .group_by(Token.state)
            )
        }
        jobs: dict[tuple[str, str], int] = {
            (kind, state): count
            for kind, state, count in conn.execute(
                select(Job.kind, Job.state, func.count())
                .where(Job.tenant == tenant)
                .group_by(Job.kind, Job.state)
            )
        }
        for state, count in conn.execute(
            select(ImportJobRow.state, func.count())
            .where(ImportJobRow.tenant == tenant)
            .group_by(ImportJobRow.state)
        ):
            jobs["import", state] = jobs.get(("import", state), 0) + count
    return tokens, jobs
