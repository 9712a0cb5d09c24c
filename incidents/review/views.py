"""Placeholder: the review pages are built in their own issue."""

from flask import Blueprint

bp = Blueprint("review", __name__)
