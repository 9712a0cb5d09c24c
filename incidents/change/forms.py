"""Change forms: shape only; the services decide what is allowed."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from incidents import MAX_ID
from incidents.change.models import RuleField
from incidents.change.rules import RULE_ORIGINS
from incidents.forms import choices


class RuleForm(FlaskForm):
    field = SelectField("When the change's", choices=choices(RuleField), default="label")
    pattern = StringField("matches (use * for any text)",
                          validators=[DataRequired(), Length(max=200)])
    origin = SelectField("it is", choices=choices(RULE_ORIGINS), default="ai_assisted")
    note = StringField("Why (shown with the rule)", validators=[Optional(), Length(max=300)])
    submit = SubmitField("Add rule")


class ConfirmForm(FlaskForm):
    change_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    back = HiddenField(default="incident")
