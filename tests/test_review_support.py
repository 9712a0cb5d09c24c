"""Arrangements shared by the review tests (no tests of its own)."""

from __future__ import annotations

from datetime import timedelta

from incidents.db import utcnow
from incidents.incident import service as incidents
from incidents.line import service as line
from incidents.prevention import service as prevention
from incidents.review import service


def make_incident(session, title="Checkout 500s after payment client upgrade"):
    started = utcnow() - timedelta(hours=5)
    incident = incidents.declare(session=session, title=title, service="checkout",
                                 started_at=started, detected_at=started + timedelta(minutes=7),
                                 change_origin="ai_assisted", detection_method="alert")
    incidents.resolve(session=session, incident=incident,
                      resolved_at=started + timedelta(hours=2, minutes=30))
    session.commit()
    return incident


def first_station(session):
    return line.stations(session=session)[0]


def structural_item(session, title="Contract test between checkout and the payment client",
                    kind="detect"):
    return prevention.create_item(session=session, title=title, kind=kind)


def make_publishable(session, review):
    """Give a review everything the gate asks for; commit."""
    service.save(session=session, review=review, base_revision=review.revision,
                 markdown="The contract between checkout and the provider was not tested.",
                 defect_class="contract")
    service.set_finding(session=session, review=review, station_id=first_station(session).id,
                        reason="no_check")
    item = structural_item(session)
    service.link_item(session=session, review=review, item_id=item.id)
    session.commit()
    return review
