"""Token lifecycle: every action on one token, and the one dispatch the web, the API, the bulk
selection and the CLI share.

Why: each help desk action is one audited change with an actor and a reason, checked against
the lifecycle (and, for a named user, against whose token it is) on the locked token row before
Entra is touched, so two agents acting on one token cannot both win. ``steps`` holds the pieces
self-service enrollment reuses under its own lock; ``actions`` the actions without a code;
``activation`` those with one; ``dispatch`` the ``perform`` entry point.
"""

from oathdesk.service.lifecycle.actions import (
    assign,
    deactivate,
    delete,
    mark_lost,
    push_one,
    unassign,
)
from oathdesk.service.lifecycle.activation import activate, replace, resync
from oathdesk.service.lifecycle.dispatch import Action, ActionRequest, perform
from oathdesk.service.lifecycle.found import found
from oathdesk.service.lifecycle.steps import (
    HOLDING,
    NotHolder,
    check_code,
    check_holder,
    give_to,
    send_activation,
)

__all__ = [
    "HOLDING",
    "Action",
    "ActionRequest",
    "NotHolder",
    "activate",
    "assign",
    "check_code",
    "check_holder",
    "deactivate",
    "delete",
    "found",
    "give_to",
    "mark_lost",
    "perform",
    "push_one",
    "replace",
    "resync",
    "send_activation",
    "unassign",
]
