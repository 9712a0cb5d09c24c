from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from incidents.auth.models import Role, Scope
from incidents.forms import choices, team_field


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Sign in")


class UserForm(FlaskForm):
    # The address rule is the service's (auth.service.normalise_email), the CLI's too.
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=choices(Role))
    team = team_field("Team")
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=200)])
    submit = SubmitField("Create user")


class PasswordForm(FlaskForm):
    """An admin sets someone's password."""

    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField("Repeat it", validators=[
        DataRequired(), EqualTo("password", message="The two passwords differ.")])
    submit = SubmitField("Set password")


class ChangePasswordForm(FlaskForm):
    """Every user changes their own password."""

    current_password = PasswordField("Current password",
                                     validators=[DataRequired(), Length(max=200)])
    password = PasswordField("New password", validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField("Repeat the new password", validators=[
        DataRequired(), EqualTo("password", message="The two passwords differ.")])
    submit = SubmitField("Change password")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=choices(Role))
    submit = SubmitField("Change role")


class SlackLinkForm(FlaskForm):
    slack_user_id = StringField("Slack member id", validators=[Optional(), Length(max=40)])
    submit = SubmitField("Save link")


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    scope = SelectField("Scope", choices=choices(Scope))
    submit = SubmitField("Create token")


class ProfileForm(FlaskForm):
    timezone = StringField("Time zone", validators=[DataRequired(), Length(max=64)])
    submit = SubmitField("Save")


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""

    submit = SubmitField("Confirm")
