from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from incidents.forms import team_field
from incidents.prevention.models import PreventionKind

KINDS = [SelectChoice(k.value, f"{k.value.replace('_', ' ')} ({k.strength})")
         for k in PreventionKind]


class ItemForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    kind = SelectField("Kind (strength)", choices=KINDS, default=PreventionKind.DETECT.value)
    station_id = SelectField("Station it strengthens", coerce=int, validate_choice=False)
    owner_team = team_field("Owner team")
    due_date = DateField("Due", validators=[Optional()])
    tracker_url = StringField("Tracker link", validators=[Optional(), Length(max=2000)])
    description = TextAreaField("What it changes", validators=[Optional(), Length(max=20000)])
    submit = SubmitField("Propose item")


class StatusForm(FlaskForm):
    """A move along the item's statuses; without a status it only sets the guard."""

    status = HiddenField()
    guard_url = StringField("Guard link", validators=[Optional(), Length(max=2000)])
    dropped_reason = TextAreaField("Why drop it?", validators=[Optional(), Length(max=5000)])


class EditItemForm(FlaskForm):
    """The item page's edit form: what the item says, not where it stands (StatusForm)."""

    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    kind = SelectField("Kind (strength)", choices=KINDS)
    station_id = SelectField("Station it strengthens", coerce=int, validate_choice=False)
    owner_team = team_field("Owner team")
    assignee = SelectField("Assignee", validate_choice=False)
    due_date = DateField("Due", validators=[Optional()])
    reason = TextAreaField("Why the due date moves", validators=[Optional(), Length(max=5000)])
    description = TextAreaField("What it changes", validators=[Optional(), Length(max=20000)])
    revision = HiddenField()
    submit = SubmitField("Save changes")
