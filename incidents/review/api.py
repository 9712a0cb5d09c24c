"""Placeholder: the review API is built in its own issue."""

from incidents.api import Blueprint

blp = Blueprint("review_api", __name__, url_prefix="/api/v1", description="review")
