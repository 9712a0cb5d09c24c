"""Review Markdown to safe HTML: rendered with `markdown`, then sanitised with `nh3`.

Raw HTML in the Markdown passes through the renderer; the sanitiser is what makes it safe,
by an allow-list: no script, no event handler, no style, and links only to http(s) or mailto.
"""

from __future__ import annotations

import markdown as md
import nh3
from markupsafe import Markup

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "def_list", "abbr"]


def render(text: str) -> Markup:
    """Render review Markdown to HTML that is safe to put in any page."""
    html = md.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    return Markup(nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ))
