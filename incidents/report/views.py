"""Placeholder: the report pages are built in their own issue."""

from flask import Blueprint

bp = Blueprint("report", __name__)
