"""Forms of the portal (Flask-WTF: each carries its CSRF token), validators that speak the
page's language, and the one way a service's refusal reaches the field that caused it.

Validators here only check what a form can know (a field left empty, two passwords that
differ); every rule of the domain is the services', shown with ``show_refusal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from werkzeug.datastructures import FileStorage
from wtforms import DateField, Field, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import StopValidation, ValidationError

from trace_service.errors import DomainError, InvalidInput
from trace_service.fields import MAX_ID
from trace_service.web.formatting import vn_number
from trace_service.web.i18n import t


class Required:
    """The field must be filled in (whitespace is not filling it in). What the message asks
    follows the input: a choice is chosen, a day picked, a file chosen, text typed."""

    field_flags = {"required": True}  # noqa: RUF012 - WTForms reads it from the class

    def __init__(self, vi: str | None = None, en: str | None = None) -> None:
        self.vi, self.en = vi, en

    def __call__(self, form: FlaskForm, field: Field) -> None:
        data = field.data
        empty_file = isinstance(data, FileStorage) and not data.filename
        if data is None or (isinstance(data, str) and not data.strip()) or data == [] or empty_file:
            # A value typed but unreadable (a date that is not one) says so, not "fill in".
            unreadable = [str(message) for message in field.process_errors]
            field.errors = []
            raise StopValidation(unreadable[0] if unreadable else self._message(field))

    def _message(self, field: Field) -> str:
        if self.vi and self.en:
            return t(self.vi, self.en)
        if isinstance(field, FileField):
            return t("Hãy chọn một tệp.", "Choose a file.")
        if isinstance(field, DateField):
            return t("Hãy chọn một ngày.", "Choose a date.")
        if isinstance(field, SelectField | RadioField):
            return t("Hãy chọn một mục.", "Choose one.")
        return t("Hãy điền mục này.", "Fill in this field.")


class MaxLength:
    def __init__(self, most: int) -> None:
        self.most = most

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if isinstance(field.data, str) and len(field.data) > self.most:
            raise ValidationError(
                t(f"Tối đa {vn_number(self.most)} ký tự.", f"At most {self.most:,} characters.")
            )


class SameAs:
    def __init__(self, other: str, vi: str, en: str) -> None:
        self.other, self.vi, self.en = other, vi, en

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data != form[self.other].data:
            raise ValidationError(t(self.vi, self.en))


class SignInForm(FlaskForm):
    username = StringField(validators=[Required(), MaxLength(64)])
    password = PasswordField(validators=[Required(), MaxLength(1024)])


class PasswordForm(FlaskForm):
    current = PasswordField(validators=[Required(), MaxLength(1024)])
    new = PasswordField(validators=[Required(), MaxLength(1024)])
    confirm = PasswordField(
        validators=[
            Required(),
            SameAs("new", "Hai lần nhập mật khẩu mới không giống nhau.", "The two differ."),
        ]
    )


def show_refusal(
    form: FlaskForm,
    error: DomainError,
    fallback: str | None = None,
    names: dict[str, str] | None = None,
) -> None:
    """Put a service's refusal beside the field it names (``field_error``; ``names`` maps a
    service's field to the form's where they differ), else beside ``fallback``, else at the
    top of the form; in the page's language. Several problems at once (``raise_all``)
    each go beside their own field."""
    if isinstance(error, InvalidInput) and error.problems:
        for problem in error.problems:
            show_refusal(form, problem, fallback, names)
        return
    message = t(error.message, error.message_en)
    name = _field_of(error)
    name = (names or {}).get(name or "", name)
    field: Any = getattr(form, name, None) if name else None
    if not isinstance(field, Field) and fallback:
        field = getattr(form, fallback, None)
    if isinstance(field, Field):
        if message not in field.errors:  # a rule checked before and again: said once
            field.errors = [*field.errors, message]
    elif message not in form.form_errors:
        form.form_errors.append(message)


def csrf_failed(form: FlaskForm) -> bool:
    """The form came without its token (a stale page, another site's post)."""
    return bool(form.meta.csrf and form.csrf_token.errors)


def show_problems(
    form: FlaskForm, problems: list[InvalidInput], names: dict[str, str] | None = None
) -> None:
    """A service's rule problems beside their fields, with the form's own format errors, so
    every field's problem shows in one pass; a field the form already faults keeps its
    one message (its value was not read, so a rule on it says nothing more)."""
    faulted = {name for name, field in form._fields.items() if field.errors}
    for problem in problems:
        name = _field_of(problem)
        if (names or {}).get(name or "", name) not in faulted:
            show_refusal(form, problem, names=names)


def _field_of(error: DomainError) -> str | None:
    """The one field a refusal names: ``field_error``'s, else the only key of its errors."""
    if isinstance(error, InvalidInput) and error.field:
        return error.field
    named = (error.errors or {}).get("json")
    if isinstance(named, dict) and len(named) == 1:
        return str(next(iter(named)))
    return None


@dataclass(frozen=True)
class Problem:
    """One line of a form's error summary: the field's visible label and where it is."""

    message: str
    label: str | None = None  # None: a refusal of the whole form, or a field with no label
    target: str | None = None  # the id the line links to


def note_label(field: Field, label: str, target: str | None = None) -> str:
    """Remember the label a page shows for ``field`` (and the id to link to, the first
    choice of a group of radio buttons) for the form's error summary; draws nothing."""
    field.summary_label, field.summary_target = str(label), target or field.id
    return ""


def error_items(form: FlaskForm) -> list[Problem]:
    """The form's errors as its summary lists them: the form's own first, then each field's,
    named by its visible label (``note_label``) and linked to it."""
    items = [Problem(str(message)) for message in form.form_errors]
    for name, messages in form.errors.items():
        field = form._fields.get(name) if name else None
        if field is None:
            continue
        label = getattr(field, "summary_label", None)
        target = getattr(field, "summary_target", None) or field.id
        # A message that names its field already ("Số gói, chai… đã đóng: phải từ 1…") is
        # not prefixed with the label a second time.
        items += [
            Problem(str(m), None if label and str(m).startswith(label) else label, target)
            for m in messages
        ]
    return items


def render_input(field: Field, described_by: str, **attrs: Any) -> Markup:
    """A field's input with its accessible description (hint, error) and invalid state."""
    clean = {key: value for key, value in attrs.items() if value is not None}
    if described_by:
        clean["aria-describedby"] = described_by
    if field.errors:
        clean["aria-invalid"] = "true"
    return Markup(field(**clean))  # noqa: S704 - WTForms escapes every value it renders


def query_id(text: str | None) -> int | None:
    """A record id or page number from a query string (ASCII digits, 1 to 2⁶³−1), else None:
    a longer number would overflow the database's integer (a 500), a sign or letter is no id."""
    if not text or not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
