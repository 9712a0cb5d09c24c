"""`/api/v1/prevention-items/<id>/tracker-issue` and `…/tracker-link`: thin adapters over
incidents.tracker.service."""

from __future__ import annotations

import marshmallow as ma

from incidents.api import Blueprint, secured, token_label
from incidents.appdb import get_session
from incidents.auth.models import Scope
from incidents.prevention.api import ItemOut
from incidents.tracker import service

blp = Blueprint("tracker_api", __name__, url_prefix="/api/v1",
                description="Prevention items in GitHub Issues, Jira and Linear")


class LinkIn(ma.Schema):
    url = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


@blp.route("/prevention-items/<int:item_id>/tracker-issue", methods=["POST"])
@secured(blp, Scope.API_WRITE, 404, 409, 422)
@blp.response(202, ItemOut)
def create_issue(item_id):
    """Create the item's issue in its owner team's tracker (a worker job; `tracker.state`
    stays `pending` until it is created)."""
    session = get_session()
    item = service.get_item(session=session, item_id=item_id)
    service.request_issue(session=session, item=item, actor_label=token_label())
    session.commit()
    return item


@blp.route("/prevention-items/<int:item_id>/tracker-link", methods=["POST"])
@secured(blp, Scope.API_WRITE, 400, 404, 409)
@blp.arguments(LinkIn)
@blp.response(200, ItemOut)
def link_issue(data, item_id):
    """Link an existing GitHub, Jira or Linear issue by its URL; its state is fetched by a
    worker job."""
    session = get_session()
    item = service.get_item(session=session, item_id=item_id)
    service.link_issue(session=session, item=item, url=data["url"], actor_label=token_label())
    session.commit()
    return item
