"""How a change's origin is decided, from the evidence its record carries.

Pure functions: no database, no Flask. The order, and why:

1. What the sender declared (`/hooks/changes` `ai_assisted` / `origin`): the sender knows.
2. The admin's rules, first match in their order: the team's own conventions (labels, bots).
3. Built-in knowledge of AI assistants: the commit trailers and bot accounts they write
   (Claude Code, Copilot, Cursor, Aider, Devin, Codex, Jules, Amp, OpenHands, OpenCode) and
   the `Assisted-by:` / `Generated-by:` conventions; dependency bots are third-party.
4. Otherwise **unknown**. Human is never the default: a change is human only on positive
   evidence (a declaration or a rule), and not even then when an assistant's trailer or an AI
   rule contradicts it — conflicting evidence is unknown.

Every text path is linear in its input: lines are split once, patterns are matched with
`str.find`, never a regular expression an admin could make backtrack.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from incidents.incident.models import ChangeOrigin

MAX_TRAILERS = 100
MAX_TRAILER = 300
MAX_KEY = 40

# Values of Assisted-by / Generated-by that say "nothing assisted".
NONE_WORDS = frozenset({"", "none", "no", "n/a", "na", "nobody", "nothing", "-"})


@dataclass(frozen=True)
class Assistant:
    """An AI coding assistant and the identities it signs commits and pull requests with."""

    name: str
    emails: tuple[str, ...] = ()  # exact co-author / author emails
    email_parts: tuple[str, ...] = ()  # substrings of the email (GitHub bot no-reply addresses)
    logins: tuple[str, ...] = ()  # code-host accounts that author pull requests
    name_suffixes: tuple[str, ...] = ()  # git author names it rewrites, e.g. "Ada (aider)"
    trailers: tuple[str, ...] = ()  # whole trailer lines, lower-case


# Sources: each tool's documented or shipped commit attribution (see the README's table).
ASSISTANTS: tuple[Assistant, ...] = (
    Assistant("Claude Code", emails=("noreply@anthropic.com",),
              trailers=("generated-with: claude code",)),
    Assistant("GitHub Copilot", emails=("copilot@github.com",),
              email_parts=("+copilot@users.noreply.github.com",),
              logins=("copilot", "copilot-swe-agent[bot]")),
    Assistant("Cursor", emails=("cursoragent@cursor.com",), email_parts=("@cursor.sh",),
              logins=("cursor[bot]",), trailers=("made-with: cursor",)),
    Assistant("Aider", emails=("noreply@aider.chat",), name_suffixes=("(aider)",)),
    Assistant("Devin", emails=("devin@cognition.ai",),
              email_parts=("devin-ai-integration[bot]",), logins=("devin-ai-integration[bot]",)),
    Assistant("OpenAI Codex", emails=("noreply@openai.com",),
              logins=("chatgpt-codex-connector[bot]",)),
    Assistant("Google Jules", email_parts=("google-labs-jules[bot]",),
              logins=("google-labs-jules[bot]",)),
    Assistant("Amp", emails=("amp@ampcode.com",)),
    Assistant("OpenHands", emails=("openhands@all-hands.dev",)),
    Assistant("OpenCode", emails=("noreply@opencode.ai",)),
)
# Trailers whose key alone says an assistant took part, whatever tool they name.
AI_TRAILER_KEYS = ("assisted-by", "generated-by")
# Trailers an assistant writes besides Co-authored-by.
ASSISTANT_KEYS = {"claude-session": "Claude Code"}
# Bots that open dependency updates: the code is a third party's.
DEPENDENCY_BOTS = ("dependabot[bot]", "renovate[bot]")


# --- reading commit messages ------------------------------------------------------------------

def trailers_in(messages: Iterable[str]) -> list[str]:
    """The trailer lines (`Key-Name: value`) in commit messages, in order, each once.

    Every line is looked at, not only the last paragraph: a squash merge keeps the squashed
    commits' trailers in its body. "Generated with [Claude Code]" footers are kept as
    `Generated-with: Claude Code`.
    """
    found: dict[str, None] = {}
    for message in messages:
        for raw in message.splitlines():
            line = _trailer(raw.strip())
            if line and line not in found:
                found[line] = None
                if len(found) >= MAX_TRAILERS:
                    return list(found)
    return list(found)


def _trailer(line: str) -> str | None:
    if "generated with" in line.lower() and "claude code" in line.lower():
        return "Generated-with: Claude Code"
    key, sep, value = line.partition(":")
    if not sep or not value.strip() or len(key) > MAX_KEY or "-" not in key:
        return None
    if not key[0].isalpha() or not all(c.isalnum() or c == "-" for c in key):
        return None
    return f"{key}: {value.strip()}"[:MAX_TRAILER]


def identity(value: str) -> tuple[str, str]:
    """(name, email) of `Name <email>`, both lower-case; email empty when there is none."""
    name, _, rest = value.partition("<")
    email = rest.partition(">")[0] if rest else ""
    return name.strip().lower(), email.strip().lower()


def assistant_of_identity(name: str, email: str) -> Assistant | None:
    for assistant in ASSISTANTS:
        if email and (email in assistant.emails
                      or any(part in email for part in assistant.email_parts)):
            return assistant
        if name and any(name.endswith(suffix) for suffix in assistant.name_suffixes):
            return assistant
    return None


def assistant_of_login(login: str | None) -> Assistant | None:
    login = (login or "").strip().lower()
    return next((a for a in ASSISTANTS if login and login in a.logins), None)


# --- matching rules -------------------------------------------------------------------------

def glob_match(pattern: str, text: str) -> bool:
    """Case-insensitive whole-text match where `*` stands for any run of characters.

    Literal pieces are found left to right with `str.find`: greedy leftmost placement is
    exact for `*`-only patterns, and nothing can backtrack.
    """
    pattern, text = pattern.lower(), text.lower()
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return pattern == text
    first, *middle, last = pieces
    if not text.startswith(first) or len(text) < len(first) + len(last):
        return False
    if last and not text.endswith(last):
        return False
    at, end = len(first), len(text) - len(last)
    for piece in middle:
        if not piece:
            continue
        found = text.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def rule_values(change, field: str) -> list[str]:
    """The texts of the change that a rule on `field` is matched against."""
    if field == "label":
        return list(change.labels or [])
    if field == "trailer":
        return list(change.trailers or [])
    if field == "service":
        return [change.service] if change.service else []
    value = getattr(change, field, None)
    return [value] if value else []


# --- deciding -------------------------------------------------------------------------------

@dataclass
class Attribution:
    origin: ChangeOrigin
    reason: str  # what decided it
    evidence: list[str] = field(default_factory=list)  # every signal seen


@dataclass
class _Signal:
    origin: ChangeOrigin
    text: str


LABELS = {ChangeOrigin.AI_ASSISTED: "AI-assisted", ChangeOrigin.HUMAN: "human",
          ChangeOrigin.CONFIG: "config", ChangeOrigin.THIRD_PARTY: "third-party",
          ChangeOrigin.UNKNOWN: "unknown"}


def _builtin_signals(change) -> list[_Signal]:
    signals: list[_Signal] = []
    for line in change.trailers or []:
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "co-authored-by":
            name, email = identity(value)
            assistant = assistant_of_identity(name, email)
            if assistant:
                signals.append(_Signal(ChangeOrigin.AI_ASSISTED,
                                       f"trailer “{line}” names {assistant.name}"))
            elif any(bot in email or bot == name for bot in DEPENDENCY_BOTS):
                signals.append(_Signal(ChangeOrigin.THIRD_PARTY,
                                       f"trailer “{line}” names a dependency bot"))
        elif key in AI_TRAILER_KEYS and value.lower() not in NONE_WORDS:
            signals.append(_Signal(ChangeOrigin.AI_ASSISTED,
                                   f"trailer “{line}” says an AI assistant took part"))
        elif key in ASSISTANT_KEYS:
            signals.append(_Signal(ChangeOrigin.AI_ASSISTED,
                                   f"trailer “{line}” is written by {ASSISTANT_KEYS[key]}"))
        elif line.lower() in _ASSISTANT_TRAILERS:
            assistant = _ASSISTANT_TRAILERS[line.lower()]
            signals.append(_Signal(ChangeOrigin.AI_ASSISTED,
                                   f"“{line}” is written by {assistant}"))
    author = (change.author or "").strip()
    assistant = assistant_of_login(author) or (
        assistant_of_identity(*identity(author)) if author else None)
    if assistant:
        signals.append(_Signal(ChangeOrigin.AI_ASSISTED,
                               f"author {author} is {assistant.name}"))
    elif author.lower() in DEPENDENCY_BOTS:
        signals.append(_Signal(ChangeOrigin.THIRD_PARTY, f"author {author} is a dependency bot"))
    return signals


_ASSISTANT_TRAILERS = {line: a.name for a in ASSISTANTS for line in a.trailers}


def _rule_signals(change, rules: Sequence) -> list[tuple[object, _Signal]]:
    """Every rule that matches, in the admin's order, with what it matched."""
    matched = []
    for number, rule in enumerate(rules, start=1):
        field_name = str(rule.field)
        value = next((v for v in rule_values(change, field_name)
                      if glob_match(rule.pattern, v)), None)
        if value is not None:
            text = (f"rule {number}: {field_name} “{value}” matches “{rule.pattern}” → "
                    f"{LABELS[ChangeOrigin(rule.origin)]}")
            matched.append((rule, _Signal(ChangeOrigin(rule.origin), text)))
    return matched


def classify(change, rules: Sequence) -> Attribution:
    """Decide the change's origin and say why (see the module docstring for the order)."""
    builtin = _builtin_signals(change)
    by_rule = _rule_signals(change, rules)
    evidence = [s.text for _, s in by_rule] + [s.text for s in builtin]
    declared = ChangeOrigin(change.declared_origin) if change.declared_origin else None
    if declared and declared != ChangeOrigin.UNKNOWN:
        decided = _Signal(declared, f"declared {LABELS[declared]} by the sender")
        evidence.insert(0, decided.text)
    elif by_rule:
        decided = by_rule[0][1]
    else:
        decided = next((s for s in builtin if s.origin == ChangeOrigin.AI_ASSISTED), None) \
            or (builtin[0] if builtin else None)
    if decided is None:
        return Attribution(ChangeOrigin.UNKNOWN, _undecided(change), evidence)
    if decided.origin == ChangeOrigin.HUMAN:
        against = [s for s in [s for _, s in by_rule] + builtin
                   if s.origin == ChangeOrigin.AI_ASSISTED]
        if against:
            return Attribution(ChangeOrigin.UNKNOWN,
                               f"conflicting evidence: {decided.text}, but {against[0].text}",
                               evidence)
    return Attribution(decided.origin, decided.text, evidence)


def _undecided(change) -> str:
    reason = "no evidence of AI assistance or of a human author"
    if change.squashed:
        reason += ("; squash merge: the squashed commits' trailers may not have survived, so "
                   "their absence proves nothing")
    elif not change.trailers:
        reason += "; no commit trailers were received for it"
    return reason
