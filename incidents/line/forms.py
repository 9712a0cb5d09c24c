from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class StationForm(FlaskForm):
    name = StringField("Station", validators=[DataRequired(), Length(max=120)])
    catches = TextAreaField("What its check catches", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Save")


class MoveForm(FlaskForm):
    direction = SelectField(choices={"up": "up", "down": "down"})
