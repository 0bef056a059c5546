"""The producer's forms. They only check what a form can know (a field left empty, a number
that is not one); every rule of ordering stamps and of packing is the services'."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import Optional, StopValidation, ValidationError

from trace_service.clock import today_vn
from trace_service.portal.forms import MaxLength, Required
from trace_service.web.i18n import t

THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")


def parse_amount(text: str) -> Decimal:
    """An amount as written in Vietnam: "12,5", "1.250" (a thousand two hundred and fifty),
    "1.234,5"; "12.5" (one dot, not three digits after it) is read as 12.5 too."""
    cleaned = text.strip().replace(" ", "")
    if "," in cleaned or THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    value = Decimal(cleaned)
    if not value.is_finite():
        raise InvalidOperation(text)
    return value


class Amount:
    """A positive amount (kg…), typed with a comma or a dot."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        try:
            value = parse_amount(field.data)
        except InvalidOperation:
            raise ValidationError(
                t("Hãy nhập một số, ví dụ 12,5.", "Type a number, e.g. 12.5.")
            ) from None
        if value <= 0:
            raise ValidationError(t("Số lượng phải lớn hơn 0.", "The amount must be above 0."))


class NotAfterToday:
    """A day that has come: events are recorded after they happen."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data and field.data > today_vn():
            raise ValidationError(t("Ngày này chưa đến.", "This day has not come yet."))


def _id(value: Any) -> int | None:
    """A choice's id, or None for the empty choice; anything a database id cannot be is not a
    choice (ValueError: the form says so beside the field, instead of the database failing)."""
    if value in (None, "", "None"):
        return None
    text = str(value)
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 2**63):
        raise ValueError("not a choice")
    return int(text)


def _number_message() -> str:
    return t(
        "Hãy nhập một số nguyên, ví dụ 100 hoặc 2.000.", "Type a whole number, e.g. 100 or 2000."
    )


# ASCII digits, whole, thousands grouped by dots or spaces as Vietnamese writes them (2.000,
# 10 000) or not at all; a minus is read, so that the rule on the range explains it. Not
# int()'s leniency: "1.5" read as 15 once the dot was dropped, "1_0" as 10 (review
# attack16 F2).
_MOST_DIGITS = 15  # beyond any count here; every field's range rule then speaks
_WHOLE_NUMBER = re.compile(r"-?(?:[0-9]+|[1-9][0-9]{0,2}(?:[. \u00a0\u202f][0-9]{3})+)")


class WholeNumber(IntegerField):
    """An integer field whose "not a number" message speaks the page's language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        if not _WHOLE_NUMBER.fullmatch(text):
            self.data = None
            raise ValueError(_number_message())
        digits = re.sub(r"[^0-9-]", "", text)
        if len(digits.lstrip("-")) > _MOST_DIGITS:  # int() of thousands of digits: its own error
            self.data = None
            raise ValueError(t("Số này quá lớn.", "This number is too large."))
        self.data = int(digits)


class Day(DateField):
    """A date field whose "not a date" message speaks the page's language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(t("Hãy chọn một ngày.", "Choose a date.")) from None


class OrderForm(FlaskForm):
    lot = RadioField(
        coerce=_id,
        validate_choice=False,
        validators=[Required("Hãy chọn một lô hàng.", "Choose a lot.")],
    )
    quantity = WholeNumber(validators=[Required()])
    # Left out (an older page, a script): today's A4 layout from its first position.
    stock = RadioField(validate_choice=False, default="a4_sheet")
    start_position = WholeNumber(default=1, validators=[Optional()])
    # Ticked: each stamp carries a code under a scratch-off layer (copies show at reuse).
    scratch = BooleanField()
    # One key per form shown: a second click or a resent form gives back the same run.
    key = HiddenField(default=lambda: secrets.token_hex(16))
    # Ticked: another run for a lot that had one minutes ago is meant, not a mistake.
    repeat = BooleanField()


class PackingForm(FlaskForm):
    product = SelectField(
        coerce=_id,
        validate_choice=False,
        validators=[Required("Hãy chọn một sản phẩm.", "Choose a product.")],
    )
    input_lot = SelectField(
        coerce=_id,
        validate_choice=False,
        validators=[Required("Hãy chọn một lô nguyên liệu.", "Choose an input lot.")],
    )
    input_quantity = StringField(validators=[Required(), Amount(), MaxLength(20)])
    input_lot_2 = SelectField(coerce=_id, validate_choice=False, validators=[Optional()])
    input_quantity_2 = StringField(validators=[Amount(), MaxLength(20)])
    quantity = StringField(validators=[Required(), Amount(), MaxLength(20)])
    unit_count = WholeNumber(validators=[Required()])
    packed_on = Day(validators=[Required(), NotAfterToday()])
    code = StringField(validators=[MaxLength(20)])

    def validate_input_quantity_2(self, field: Field) -> None:
        if self.input_lot_2.data and not field.data:
            raise ValidationError(t("Hãy điền lượng lấy từ lô này.", "Fill in the amount taken."))


class HarvestForm(FlaskForm):
    area = SelectField(
        coerce=_id,
        validate_choice=False,
        validators=[Required("Hãy chọn một vùng nguyên liệu.", "Choose a raw-material area.")],
    )
    harvest_start = Day(validators=[Required(), NotAfterToday()])
    harvest_end = Day(validators=[Required(), NotAfterToday()])
    material = StringField(validators=[Required(), MaxLength(120)])
    quantity = StringField(validators=[Required(), Amount(), MaxLength(20)])
    unit = SelectField(validators=[Required()])
    code = StringField(validators=[MaxLength(20)])


class ProcessForm(FlaskForm):
    step = SelectField(validators=[Required()])  # not "process": a method of every form
    input_lot = SelectField(coerce=_id, validate_choice=False, validators=[Required()])
    input_quantity = StringField(validators=[Required(), Amount(), MaxLength(20)])
    input_lot_2 = SelectField(coerce=_id, validate_choice=False, validators=[Optional()])
    input_quantity_2 = StringField(validators=[Amount(), MaxLength(20)])
    done_on = Day(validators=[Required(), NotAfterToday()])
    material = StringField(validators=[Required(), MaxLength(120)])
    quantity = StringField(validators=[Required(), Amount(), MaxLength(20)])
    unit = SelectField(validators=[Required()])
    code = StringField(validators=[MaxLength(20)])

    def validate_input_quantity_2(self, field: Field) -> None:
        if self.input_lot_2.data and not field.data:
            raise ValidationError(t("Hãy điền lượng lấy từ lô này.", "Fill in the amount taken."))


class Millimetres(StringField):
    """A length in millimetres, typed with a comma or a dot, possibly negative."""

    data: Decimal | None  # a number, not the text typed

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        text = str(self.raw).strip().replace(" ", "").replace("−", "-")
        if not text:
            self.data = Decimal(0)
            return
        try:
            self.data = parse_amount(text.lstrip("+"))
        except InvalidOperation:
            self.data = None
            message = t("Hãy nhập số mm, ví dụ -1,5.", "Type millimetres, e.g. -1.5.")
            raise ValueError(message) from None

    def _value(self) -> str:
        if self.data is None:
            return str(getattr(self, "raw", ""))
        return f"{self.data:.1f}".replace(".", ",")


class OffsetForm(FlaskForm):
    offset_x = Millimetres()
    offset_y = Millimetres()


class VoidForm(FlaskForm):
    sequences = StringField(validators=[Required(), MaxLength(2000)])
    reason = StringField(validators=[Required(), MaxLength(500)])
    confirmed = HiddenField()  # "1" from the confirm step: the listed stamps are voided
    edit = HiddenField()  # "1" from the confirm step's "change": the form again, as typed


class FileChosen:
    """A file must be chosen (the message in the page's language, so made at check time)."""

    field_flags = {"required": True}  # noqa: RUF012 - WTForms reads it from the class

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not isinstance(field.data, FileStorage) or not field.data.filename:
            raise StopValidation(t("Hãy chọn một tệp ảnh.", "Choose an image file."))


class PhotoForm(FlaskForm):
    """A product's photo: the file only; whether it is a photo we take is the service's."""

    photo = FileField(validators=[FileChosen()])


class PhotoDeleteForm(FlaskForm):
    """Removing the product's photo: its CSRF token only."""
