from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional


class TeamForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    slack_channel_id = StringField("Slack channel id (optional)",
                                   validators=[Optional(), Length(max=40)])
    submit = SubmitField("Add team")


class RenameForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired(), Length(max=100)])
    submit = SubmitField("Rename")


class ChannelForm(FlaskForm):
    slack_channel_id = StringField("Slack channel id", validators=[Optional(), Length(max=40)])
    submit = SubmitField("Save channel")


class MemberForm(FlaskForm):
    user_id = SelectField("User", coerce=int, validate_choice=False)
    submit = SubmitField("Add to team")


class MergeForm(FlaskForm):
    into = SelectField("Merge into", coerce=int, validate_choice=False)
    submit = SubmitField("Merge")
