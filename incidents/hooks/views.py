"""Placeholder: the paging-tool hooks are built in their own issue."""

from flask import Blueprint

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
