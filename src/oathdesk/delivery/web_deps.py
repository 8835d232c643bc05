"""What the delivery app's routes depend on besides the HTTP kit: the :class:`Delivery` they
act on and the team's role. Sessions are the console's server-side sessions (``service``),
under cookie names of the delivery app's own (see ``web_app.cookie_policy``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from oathdesk.delivery.context import Delivery
from oathdesk.http import Principal, require

TEAM_ROLE = "delivery"


def delivery_of(request: Request) -> Delivery:
    dl: Delivery = request.app.state.delivery
    return dl


DeliveryDep = Annotated[Delivery, Depends(delivery_of)]
DeliveryTeam = Annotated[Principal, Depends(require(TEAM_ROLE))]
