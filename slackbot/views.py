"""Placeholder: the Slack endpoints are built in their own issue."""

from flask import Blueprint

bp = Blueprint("slack", __name__, url_prefix="/slack")
