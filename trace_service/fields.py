"""Marshmallow fields with the strictness the API promises."""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Any

from marshmallow import ValidationError, fields, validate

MAX_ID = 2**63 - 1  # ids are 64-bit; a larger number is refused, never sent to the database


class Text(fields.String):
    """A string stored in Unicode NFC with surrounding spaces removed.

    Vietnamese keyboards send both composed and decomposed diacritics ("ộ" as one or three code
    points); normalising keeps equal names equal. Control characters are refused, and line
    breaks too unless ``multiline=True`` (a certificate number with a line break would break
    the e-mail headers it is printed in).
    """

    def __init__(self, *, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allowed_controls = "\n\t" if multiline else ""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = unicodedata.normalize("NFC", super()._deserialize(value, attr, data, **kwargs))
        text = text.strip()
        if any(unicodedata.category(ch) == "Cc" and ch not in self.allowed_controls for ch in text):
            raise ValidationError(
                "Contains line breaks or control characters."
                if not self.allowed_controls
                else "Contains control characters."
            )
        if not text and self.required:
            raise ValidationError("Must not be blank.")
        return text


# Spreadsheet programs run a cell that starts with one of these as a formula ("=cmd|' /C
# calc'!A0"); identifiers end up in exports and in offices' spreadsheets, so none may start so.
FORMULA_STARTS = ("=", "+", "-", "@")


class Identifier(Text):
    """A code or number people copy between systems (a lot code, a certificate number): text
    that does not start like a spreadsheet formula."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text.startswith(FORMULA_STARTS):
            raise ValidationError(
                f"Must not start with '{text[0]}': spreadsheet programs run such a value "
                "as a formula."
            )
        return text


def is_finite_number(value: int | float) -> bool:
    """Finite as a float: JSON allows integers like 10**400 that no float can hold."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


class StrictFloat(fields.Float):
    """A JSON number: strings, booleans, NaN and infinities are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Must be a number.")
        if not is_finite_number(value):
            raise ValidationError("Must be a finite number.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON true or false; "yes", 1 and friends are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value


def Id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """A record id: a whole number from 1 to 2⁶³−1 (``strict=False`` for query strings)."""
    in_range = validate.Range(min=1, max=MAX_ID, error=f"Not a valid id (1 to {MAX_ID}).")
    return fields.Integer(strict=strict, validate=in_range, **kwargs)


# What happened to a product happened this century and not later than tomorrow: a clock a
# day fast (or a time zone of +14:00) is tolerated, the year 3000 or 0001 is a typing error
# (and 9999-12-31T23:59-12:00 cannot even be written in UTC).
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
CLOCK_SLACK = timedelta(days=1)
DATE_RANGE_MESSAGE = "Must be between {earliest} and {latest}."


def _latest_event() -> datetime:
    return datetime.now(UTC) + CLOCK_SLACK


class EventTime(fields.AwareDateTime):
    """When something happened: ISO 8601 with its UTC offset, from 2000 to tomorrow."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        latest = _latest_event()
        try:
            in_range = EARLIEST_EVENT <= moment <= latest
        except OverflowError:  # beyond what a datetime can hold once moved to UTC
            in_range = False
        if not in_range:
            raise ValidationError(
                DATE_RANGE_MESSAGE.format(
                    earliest=EARLIEST_EVENT.date().isoformat(), latest=latest.date().isoformat()
                )
            )
        return moment


class PastDay(fields.Date):
    """A day on which something happened: from 2000 to tomorrow (the UTC date may lag
    Vietnam's)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        earliest, latest = EARLIEST_EVENT.date(), _latest_event().date()
        if not earliest <= day <= latest:
            raise ValidationError(
                DATE_RANGE_MESSAGE.format(earliest=earliest.isoformat(), latest=latest.isoformat())
            )
        return day
