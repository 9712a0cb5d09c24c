"""The admin's attribution rules: add, move, remove — and every change classified again.

A rule edit changes how past changes count, so each edit reclassifies all of them in the same
transaction (in batches; a few seconds at a hundred thousand changes), and incidents that took
their origin from a change follow it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.audit import service as audit
from incidents.auth.models import User
from incidents.change import attribution
from incidents.change.models import ChangeRule, RuleField
from incidents.change.service import reclassify_all, rule_list
from incidents.errors import InvalidInput, NotFound, parse_choice
from incidents.incident.models import ChangeOrigin

MAX_PATTERN = 200
MAX_NOTE = 300
RULE_ORIGINS = [o for o in ChangeOrigin if o != ChangeOrigin.UNKNOWN]


@dataclass
class Edited:
    rule: ChangeRule | None
    reclassified: int  # changes whose origin moved


def add(*, session: Session, field: str, pattern: str, origin: str, note: str = "",
        actor: User | None = None) -> Edited:
    """Add a rule at the end of the list."""
    field_ = parse_choice(RuleField, field, "field")
    origin_ = parse_choice(ChangeOrigin, origin, "origin")
    if origin_ == ChangeOrigin.UNKNOWN:
        raise InvalidInput("a rule decides an origin; unknown is what no rule gives",
                           field="origin")
    pattern = (pattern or "").replace("\x00", "").strip()
    if not pattern.strip("*"):
        raise InvalidInput("the pattern must name something besides *", field="pattern")
    if len(pattern) > MAX_PATTERN:
        raise InvalidInput(f"the pattern is longer than {MAX_PATTERN} characters",
                           field="pattern")
    note = (note or "").replace("\x00", "").strip()[:MAX_NOTE]
    last = session.scalar(select(func.max(ChangeRule.position))) or 0
    rule = ChangeRule(field=field_, pattern=pattern, origin=origin_, note=note,
                      position=last + 1)
    session.add(rule)
    session.flush()
    audit.record(session=session, action="change_rule.added", entity_type="change_rule",
                 entity_id=rule.id, actor=actor, field=str(field_), pattern=pattern,
                 origin=str(origin_))
    return Edited(rule, reclassify_all(session=session))


def get(*, session: Session, rule_id: int) -> ChangeRule:
    rule = session.get(ChangeRule, rule_id)
    if rule is None:
        raise NotFound(f"no rule {rule_id}")
    return rule


def remove(*, session: Session, rule_id: int, actor: User | None = None) -> Edited:
    rule = get(session=session, rule_id=rule_id)
    audit.record(session=session, action="change_rule.removed", entity_type="change_rule",
                 entity_id=rule.id, actor=actor, field=str(rule.field), pattern=rule.pattern,
                 origin=str(rule.origin))
    session.delete(rule)
    session.flush()
    return Edited(None, reclassify_all(session=session))


def move(*, session: Session, rule_id: int, offset: int, actor: User | None = None) -> Edited:
    """Move a rule up (offset -1) or down (+1): earlier rules win."""
    rules = rule_list(session=session)
    index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
    if index is None:
        raise NotFound(f"no rule {rule_id}")
    target = index + offset
    if not 0 <= target < len(rules):
        return Edited(rules[index], 0)
    rules.insert(target, rules.pop(index))
    for position, rule in enumerate(rules, start=1):
        rule.position = position
    session.flush()
    audit.record(session=session, action="change_rule.moved", entity_type="change_rule",
                 entity_id=rule_id, actor=actor, offset=offset)
    return Edited(rules[target], reclassify_all(session=session))


def builtin_assistants() -> list[attribution.Assistant]:
    """What Linecheck recognises without any rule (shown read-only on the admin page)."""
    return list(attribution.ASSISTANTS)
