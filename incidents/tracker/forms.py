from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from incidents.tracker.models import Vendor


class TrackerForm(FlaskForm):
    """A team's tracker. The credential field is never filled in: blank keeps the stored one."""

    team = StringField("Owner team", validators=[DataRequired(), Length(max=100)])
    vendor = SelectField("Tracker", choices=[SelectChoice(v.value, v.label) for v in Vendor])
    project = StringField("Project", validators=[DataRequired(), Length(max=200)],
                          description="GitHub owner/repository · Jira project key · Linear "
                                      "team id")
    site_url = StringField("Jira site", validators=[Optional(), Length(max=500)],
                           render_kw={"placeholder": "https://acme.atlassian.net"})
    issue_type = StringField("Jira issue type", validators=[Optional(), Length(max=100)],
                             render_kw={"placeholder": "Task"})
    credential = PasswordField("Token (blank: keep the stored one, or use the environment's)",
                               validators=[Optional(), Length(max=500)],
                               render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Save tracker")


class LinkForm(FlaskForm):
    url = StringField("Issue URL", validators=[DataRequired(), Length(max=2000)],
                      render_kw={"placeholder": "https://github.com/acme/app/issues/12"})

