from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from incidents.forms import choices
from incidents.incident.models import Severity


def parse_service_teams(text: str | None) -> dict[str, str]:
    """`service = team`, one a line, into a mapping; blank lines and # comments are skipped."""
    mapping: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        service, sep, team = line.partition("=")
        if not sep or not service.strip() or not team.strip():
            raise ValueError(f"line {number}: write it as service = team")
        mapping[service.strip()] = team.strip()
    return mapping


def format_service_teams(mapping: dict[str, str] | None) -> str:
    return "\n".join(f"{service} = {team}" for service, team in sorted((mapping or {}).items()))


class SenderSettingsForm(FlaskForm):
    enabled = BooleanField("Accept deliveries from this tool")
    default_severity = SelectField("Severity when the payload has none",
                                   choices=choices(Severity))
    default_team = StringField("Default team", validators=[Optional(), Length(max=100)])
    service_teams = TextAreaField(
        "Service → team, one per line (service = team)",
        validators=[Optional(), Length(max=50_000)],
        render_kw={"rows": 4, "placeholder": "checkout = payments"},
    )
    stale_after_hours = IntegerField(
        "Stale after (hours without a firing alert; empty: never)",
        validators=[Optional(), NumberRange(min=1, max=24 * 90)])
    resolve_stale = BooleanField("Resolve stale incidents (as of their last firing alert)")
    submit = SubmitField("Save")

    def validate_service_teams(self, field):
        try:
            parse_service_teams(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class TestEventForm(FlaskForm):
    submit = SubmitField("Send a test event")
