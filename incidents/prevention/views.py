"""Placeholder: the prevention pages are built in their own issue."""

from flask import Blueprint

bp = Blueprint("prevention", __name__)
