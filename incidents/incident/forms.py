from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from incidents.forms import choices, team_field
from incidents.incident.models import ChangeOrigin, DetectionMethod, Severity, Status

SEVERITIES = choices(Severity)
STATUSES = choices(Status)


class DeclareForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    severity = SelectField("Severity", choices=SEVERITIES, default="SEV3")
    service = StringField("Service", validators=[Optional(), Length(max=200)])
    team = team_field("Team")
    description = TextAreaField("What is happening?", validators=[Optional(), Length(max=20000)])
    detection_method = SelectField(
        "How was it detected?", choices=choices(DetectionMethod), default="unknown"
    )
    change_origin = SelectField("Triggering change", choices=choices(ChangeOrigin),
                                default="unknown")
    # In the viewer's zone; empty: now. Not in the future (incident.service.declare says so).
    started_at = DateTimeLocalField("Started (empty: now)", validators=[Optional()])
    submit = SubmitField("Declare incident")


class EditIncidentForm(FlaskForm):
    """What the incident is: title, description, service, team (the API's PATCH, by hand)."""

    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    service = StringField("Service", validators=[Optional(), Length(max=200)])
    team = team_field("Team")
    description = TextAreaField("What is happening?", validators=[Optional(), Length(max=20000)])
    submit = SubmitField("Save incident")


class NoteForm(FlaskForm):
    text = TextAreaField("Note", validators=[DataRequired(), Length(max=20000)])
    submit = SubmitField("Add note")


class StatusForm(FlaskForm):
    severity = SelectField("Severity", choices=SEVERITIES)
    status = SelectField("Status", choices=STATUSES)
    submit = SubmitField("Update")


class ResolveForm(FlaskForm):
    summary = StringField("Resolution summary", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Resolve")


class TimesForm(FlaskForm):
    """Reviewers correct times after the fact; entered in the viewer's zone."""

    started_at = DateTimeLocalField("Started", validators=[DataRequired()])
    detected_at = DateTimeLocalField("Detected", validators=[Optional()])
    resolved_at = DateTimeLocalField("Resolved", validators=[Optional()])
    submit = SubmitField("Save times")


class EditEventForm(FlaskForm):
    text = TextAreaField("Text", validators=[DataRequired(), Length(max=20000)])
    submit = SubmitField("Save edit")
