"""Placeholder: the line pages are built in their own issue."""

from flask import Blueprint

bp = Blueprint("line", __name__)
