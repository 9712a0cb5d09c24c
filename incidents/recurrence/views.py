"""Placeholder: confirm/dismiss recurrence candidates from the review page (issue 6)."""

from flask import Blueprint

bp = Blueprint("recurrence", __name__)
