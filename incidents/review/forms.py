"""Review page forms: shape only; the service decides what is allowed."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional

from incidents.review.schemas import MAX_ID

DEFECT_CLASSES = [
    ("logic", "Logic"),
    ("contract", "Contract / integration"),
    ("configuration", "Configuration"),
    ("dependency", "Dependency / vulnerability"),
    ("capacity", "Capacity / performance"),
    ("data", "Data"),
    ("deployment", "Deployment / rollout"),
    ("third_party", "Third party"),
    ("observability", "Observability gap"),
    ("other", "Other"),
]
REASONS = [
    ("no_check", "No check existed"),
    ("not_covered", "The check did not cover this defect class"),
    ("bypassed", "The check was bypassed or skipped"),
    ("signal_missed", "A signal existed but was missed or ignored"),
    ("flaky", "The check was flaky or disabled"),
]
# Lists of (value, label) keep their order; fields take them as dicts (WTForms 3.3 shorthand).
# Strongest first, as SPEC.md ranks them.
KINDS = [
    ("eliminate", "Eliminate — make the defect unrepresentable (type, schema constraint)"),
    ("detect", "Detect earlier — add or extend a check at a station"),
    ("fail_loudly", "Fail loudly — runtime guard, alert"),
    ("contain", "Contain — feature flag, rollback, blast-radius limit"),
    ("local_fix", "Local fix — repairs this incident only (weak)"),
    ("advice", "Advice — be careful, update the docs (weak)"),
]
STEPS = [
    ("what-happened", "What happened"),
    ("write-up", "Write-up"),
    ("station-walk", "Station walk"),
    ("prevention", "Prevention"),
    ("publish", "Publish"),
]


class WriteUpForm(FlaskForm):
    markdown = TextAreaField("Write-up (Markdown)", validators=[Length(max=100_000)])
    defect_class = SelectField("Defect class", default="",
                               choices={"": "— choose —", **dict(DEFECT_CLASSES)})
    revision = IntegerField("Revision", validators=[InputRequired(),
                                                    NumberRange(min=0, max=MAX_ID)])
    step = HiddenField(default="write-up")
    submit = SubmitField("Save")


class FindingForm(FlaskForm):
    station_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    reason = SelectField("Why did it not?", choices=dict(REASONS))
    note = TextAreaField("Note", validators=[Optional(), Length(max=5000)])
    cheapest = BooleanField("The cheapest place to catch this class next time")


class KeepFlagForm(FlaskForm):
    rule = HiddenField(validators=[DataRequired()])
    phrase = HiddenField(validators=[DataRequired(), Length(max=300)])
    reason = StringField("Why keep it?", validators=[DataRequired(), Length(max=2000)])


class LinkItemForm(FlaskForm):
    item_id = IntegerField("Item", validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])


class NewItemForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    kind = SelectField("Kind (strongest first)", choices=dict(KINDS), default="detect")
    station_id = SelectField("Station it strengthens", coerce=str, validate_choice=False)
    owner_team = StringField("Owner team", validators=[Optional(), Length(max=100)])
    due_date = DateField("Due", validators=[Optional()])
    tracker_url = StringField("Tracker URL", validators=[Optional(), URL(require_tld=False),
                                                         Length(max=2000)])
    submit = SubmitField("Create and link")
