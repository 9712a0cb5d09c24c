"""Placeholder: the prevention API is built in its own issue."""

from incidents.api import Blueprint

blp = Blueprint("prevention_api", __name__, url_prefix="/api/v1", description="prevention")
