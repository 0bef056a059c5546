"""The office's forms. Like the producer's, they only check what a form can know (a field
left empty, a number that is not one); every rule of rating and certifying is the
certificates services', shown beside the field it concerns; the values then go through the
API's own schemas, so a page accepts exactly what the API accepts."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError
from wtforms import FloatField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from trace_service.errors import InvalidInput
from trace_service.portal.forms import MaxLength, Required
from trace_service.portal.producer.forms import Day, NotAfterToday, _id
from trace_service.web.i18n import t


class Score(FloatField):
    """A council's average score as councils write it: 69,7 or 69.7 (one decimal place; the
    API's schema checks its range and rounds). A whole-number field read "2.2" as 22."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = str(valuelist[0]).strip().replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            number = float("nan")
        if number != number or len(text) > 8:  # NaN, or far beyond any score
            self.data = None
            raise ValueError(t("Hãy nhập một số, ví dụ 32,5.", "Type a number, e.g. 32.5."))
        self.data = number


class EvaluationForm(FlaskForm):
    council_level = SelectField(validators=[Required()])
    council_unit = SelectField(coerce=_id, validate_choice=False, validators=[Optional()])
    evaluated_on = Day(validators=[Required(), NotAfterToday()])
    score_a = Score(validators=[Required()])
    score_b = Score(validators=[Required()])
    score_c = Score(validators=[Required()])
    mandatory_met = StringField(validators=[Required()])  # "yes" | "no", two radio buttons
    reference = StringField(validators=[Required(), MaxLength(120)])
    notes = TextAreaField(validators=[MaxLength(5000)])


class CertificateForm(FlaskForm):
    number = StringField(validators=[Required(), MaxLength(64)])
    decision_number = StringField(validators=[Required(), MaxLength(64)])
    decision_date = Day(validators=[Required()])
    issue_date = Day(validators=[Required()])
    issuing_authority = StringField(validators=[MaxLength(200)])


class RevocationForm(FlaskForm):
    revoked_on = Day(validators=[Required(), NotAfterToday()])
    decision = StringField(validators=[Required(), MaxLength(64)])
    reason = TextAreaField(validators=[Required(), MaxLength(2000)])
    confirmed = HiddenField()  # "1" from the review step: the certificate is revoked
    edit = HiddenField()  # "1" from the review step's "change": the form again, as typed


class CloseReportForm(FlaskForm):
    note = TextAreaField(validators=[Required(), MaxLength(2000)])


class ImportForm(FlaskForm):
    file = FileField(validators=[Required("Hãy chọn tệp danh sách.", "Choose the list's file.")])


def through_schema(schema: Schema, payload: dict[str, Any]) -> dict[str, Any]:
    """The form's values read by the API's schema (its lengths, formula and control-character
    rules); a refusal names its field, for ``show_refusal``."""
    try:
        loaded: dict[str, Any] = schema.load(payload)
    except SchemaError as error:
        messages = error.normalized_messages()
        name = next(iter(messages)) if isinstance(messages, dict) else None
        detail = messages.get(name) if isinstance(messages, dict) and name else messages
        text = detail[0] if isinstance(detail, list) and detail else str(detail)
        refused = InvalidInput(
            f"Giá trị này không được nhận: {text}", f"This value is not accepted: {text}"
        )
        refused.field = str(name) if name else None
        raise refused from None
    return loaded


class ClearFlagForm(FlaskForm):
    reason = TextAreaField(validators=[Required(), MaxLength(500)])
