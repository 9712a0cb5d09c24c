"""Review Markdown to safe HTML: rendered with `markdown`, then sanitised with `nh3`.

Raw HTML in the Markdown passes through the renderer; the sanitiser is what makes it safe,
by an allow-list: no script, no event handler, no style, and links only to http(s) or mailto.

Python-Markdown is quadratic on some structures: every `[` of a paragraph scans ahead for its
link, and deep nesting of quotes and lists recurses level by level. `neutralise` takes those
structures apart before rendering (a paragraph crowded with brackets gets them as entities, a
line nested deeper than `MAX_NESTING` keeps the rest as text), which keeps any write-up the
review accepts under about 100 ms to render. Reviews store the HTML at save time, so a page
view does not render at all.
"""

from __future__ import annotations

import re
import secrets

import markdown as md
import nh3
from markupsafe import Markup, escape

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "def_list", "abbr"]

# A paragraph with more Markdown punctuation than this is shown as plain text: far more than
# a paragraph of prose with its links and emphasis has, far fewer than make the inline
# patterns slow (runs of `*`, `<`, `!`, `[`).
MAX_PUNCTUATION = 200
# Each `[` without its `]` scans to the end of its paragraph: past this many characters
# scanned in the whole write-up, such paragraphs are shown as plain text.
MAX_BRACKET_SCAN = 200_000
# Lines rendered as Markdown (the renderer costs tens of microseconds a block); later lines
# are shown as plain text.
MAX_LINES = 2_000
# Quote and list markers opening a line, as characters: 16 levels of "> " or "- ".
MAX_NESTING = 32
_FENCE = re.compile(r"\s{0,3}(?:```|~~~)")
_MARKERS = re.compile(r"[ \t>*+\-]*")
_MARKER = re.compile(r"[>*+\-]")
_PUNCTUATION = re.compile(r"[\[\]()<>*_`!&\\]")


def render(text: str) -> Markup:
    """Render review Markdown to HTML that is safe to put in any page."""
    nonce = secrets.token_hex(8)
    source, plain = neutralise(text or "", nonce)
    html = md.markdown(source, extensions=EXTENSIONS, output_format="html")
    for index, block in enumerate(plain):
        html = html.replace(f"<p>{_placeholder(nonce, index)}</p>",
                            "<p>" + str(escape(block)).replace("\n", "<br>\n") + "</p>", 1)
    return Markup(nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ))


def neutralise(text: str, nonce: str) -> tuple[str, list[str]]:
    """The Markdown with each paragraph that would render slowly set aside as plain text.

    Returns the Markdown to render, with a placeholder paragraph where each set-aside one
    was, and the set-aside paragraphs in order. Fenced code is left alone (the renderer does
    not scan it for inline patterns); lines nested deeper than `MAX_NESTING` keep the rest of
    their markers as text.
    """
    out: list[str] = []
    plain: list[str] = []
    block: list[str] = []
    scanned = 0
    lines = text.split("\n")

    def close_block():
        nonlocal scanned
        if block:
            cost = _bracket_scan(block)
            punctuation = sum(len(_PUNCTUATION.findall(line)) for line in block)
            if punctuation > MAX_PUNCTUATION or scanned + cost > MAX_BRACKET_SCAN:
                out.extend(["", _placeholder(nonce, len(plain)), ""])
                plain.append("\n".join(block))
            else:
                scanned += cost
                out.extend(block)
        block.clear()

    fenced = False
    for number, line in enumerate(lines):
        if number == MAX_LINES:
            close_block()
            if fenced:
                out.append("```")
            out.extend(["", _placeholder(nonce, len(plain)), ""])
            plain.append("\n".join(lines[number:]))
            break
        if _FENCE.match(line):
            close_block()
            fenced = not fenced
            out.append(line)
        elif fenced:
            out.append(line)
        elif not line.strip():
            close_block()
            out.append(line)
        else:
            block.append(_flatten(line))
    close_block()
    return "\n".join(out), plain


def _bracket_scan(block: list[str]) -> int:
    """About how many characters the link pattern scans for the block's unclosed `[`."""
    opened = sum(line.count("[") for line in block)
    closed = sum(line.count("]") for line in block)
    return max(0, opened - closed) * sum(len(line) + 1 for line in block)


def _placeholder(nonce: str, index: int) -> str:
    return f"linecheckplain{nonce}x{index}"


def _flatten(line: str) -> str:
    """The line with quote/list markers past `MAX_NESTING` escaped, so they read as text."""
    markers = _MARKERS.match(line).end()
    if markers <= MAX_NESTING:
        return line
    deep = _MARKER.sub(lambda m: "\\" + m.group(0), line[MAX_NESTING:markers])
    return line[:MAX_NESTING] + deep + line[markers:]
