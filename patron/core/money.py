"""Money in Patron: one currency per installation, always `Decimal`, never float.

Every amount Patron stores or shows passes through here:

- `currency()` is the installation's ISO 4217 code (`PATRON_CURRENCY`, GBP
  unless set) and `minor_unit()` how many decimals it has (2 for pounds, 0 for
  yen, 3 for Kuwaiti dinars), from the table below.
- `to_money(value)` rounds a `Decimal`, an `int` or a numeric string half-up
  to the minor unit (2.345 -> 2.35, -2.345 -> -2.35: half away from zero).
  It refuses a float: a float cannot hold 0.10 exactly, so one never enters
  a money path.
- `parse_amount(text)` reads what a person typed ("1,204.50", "£45", "-5")
  and refuses more decimals than the currency has, with a message saying so.
- `format_money(amount)` is the amount as people read it ("£1,204.50",
  "−£5.00").

Database columns hold amounts with `MONEY_DECIMAL_PLACES` (4) decimals, so
every currency in the table fits without a migration; services round to the
minor unit before they write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError

# Column shape of every money field (ledger amounts, balances, prices).
MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 4

# ISO 4217 minor units of the currencies an installation is likely to run in.
# Any other code is refused at start-up by `minor_unit()`; add it here with its
# exponent from the ISO 4217 list (the "minor unit" column).
MINOR_UNITS = {
    "AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
    "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2,
    "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KES": 2, "KRW": 0, "KWD": 3, "MXN": 2,
    "MYR": 2, "NGN": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "QAR": 2,
    "RON": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2, "TWD": 2,
    "UAH": 2, "UGX": 0, "USD": 2, "VND": 0, "ZAR": 2,
}  # fmt: skip
SYMBOLS = {
    "GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹", "AUD": "A$",
    "CAD": "C$", "NZD": "NZ$", "CHF": "CHF ", "ZAR": "R", "KRW": "₩", "ILS": "₪",
}  # fmt: skip
MINUS = "\u2212"  # the minus sign a reader expects in front of "£5.00"

_TYPED = re.compile(r"^([+-]?)(\d+(?:,\d{3})*|\d*)(?:\.(\d*))?$")


def currency() -> str:
    """The installation's currency code, e.g. "GBP"."""
    return (getattr(settings, "PATRON_CURRENCY", "") or "GBP").strip().upper()


def minor_unit(code: str | None = None) -> int:
    """Decimals of the currency: 2 for GBP, 0 for JPY, 3 for KWD."""
    code = (code or currency()).upper()
    try:
        return MINOR_UNITS[code]
    except KeyError:
        raise ValueError(
            f"PATRON_CURRENCY={code} is not a currency Patron knows; use an ISO 4217 code "
            f"such as GBP, EUR or USD (known: {', '.join(sorted(MINOR_UNITS))})."
        ) from None


def quantum(code: str | None = None) -> Decimal:
    """The smallest amount of the currency: Decimal("0.01") for GBP, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-minor_unit(code))


def _decimal(value) -> Decimal:
    if isinstance(value, bool | float):
        raise TypeError(
            f"Money is never a float (got {value!r}): pass a Decimal, an int or a string."
        )
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"“{value}” is not an amount.") from None
    raise TypeError(f"Money must be a Decimal, an int or a string, not {type(value).__name__}.")


def to_money(value) -> Decimal:
    """`value` rounded half-up (away from zero) to the currency's minor unit."""
    amount = _decimal(value)
    if not amount.is_finite():
        raise ValueError(f"“{value}” is not an amount.")
    return amount.quantize(quantum(), rounding=ROUND_HALF_UP)


def is_exact(value) -> bool:
    """True when `value` has no more decimals than the currency (no rounding needed)."""
    amount = _decimal(value)
    return amount.is_finite() and amount == amount.quantize(quantum(), rounding=ROUND_HALF_UP)


def parse_amount(text, *, label: str = "Amount", allow_negative: bool = True) -> Decimal:
    """An amount a person typed, exactly: "1,204.50", "£45", " -5 " or a Decimal.

    Refuses text that is not a number, and more decimals than the currency has
    ("£45.505": pounds have 2 decimals), with a message naming `label`.
    Thousands separators must be in the right places ("1,204", not "12,04").
    """
    if isinstance(text, Decimal | int) and not isinstance(text, bool):
        raw = str(text)
    elif isinstance(text, str):
        raw = text
    else:
        _decimal(text)  # raises the float / type error
        raw = str(text)
    code = currency()
    cleaned = raw.strip().replace(" ", "")
    symbol = SYMBOLS.get(code, "").strip()
    for mark in filter(None, (symbol, code, code.lower())):
        cleaned = cleaned.replace(mark, "")
    cleaned = cleaned.replace(MINUS, "-")
    if cleaned.startswith("-") or cleaned.startswith("+"):
        sign, body = cleaned[0], cleaned[1:]
    else:
        sign, body = "", cleaned
    match = _TYPED.match(sign + body)
    if not cleaned or not match or not (match.group(2) or match.group(3)):
        raise ValidationError(f"{label}: “{raw.strip()}” is not an amount; write it like 45.00.")
    whole, decimals = match.group(2).replace(",", "") or "0", match.group(3) or ""
    places = minor_unit(code)
    if len(decimals.rstrip("0")) > places:
        if places == 0:
            raise ValidationError(
                f"{label}: {code} amounts are whole numbers; “{raw.strip()}” has decimals."
            )
        raise ValidationError(
            f"{label}: {code} amounts have at most {places} decimal"
            f"{'' if places == 1 else 's'}; “{raw.strip()}” has {len(decimals)}."
        )
    amount = Decimal(f"{match.group(1)}{whole}.{decimals or '0'}")
    if amount < 0 and not allow_negative:
        raise ValidationError(f"{label} cannot be negative (got {raw.strip()}).")
    return to_money(amount)


def money_sum(values: Iterable) -> Decimal:
    """The exact sum of amounts (Decimal or int; a float is refused), in the minor unit."""
    total = Decimal(0)
    for value in values:
        total += _decimal(value)
    return to_money(total)


def format_money(amount, *, code: str | None = None, signed: bool = False) -> str:
    """ "£1,204.50", "−£5.00"; with `signed`, "+£5.00" for a positive amount."""
    if amount is None:
        return ""
    code = (code or currency()).upper()
    value = _decimal(amount).quantize(quantum(code), rounding=ROUND_HALF_UP)
    symbol = SYMBOLS.get(code)
    number = f"{abs(value):,.{minor_unit(code)}f}"
    text = f"{symbol}{number}" if symbol else f"{number} {code}"
    if value < 0:
        return f"{MINUS}{text}"
    if signed and value > 0:
        return f"+{text}"
    return text


def check_currency() -> None:
    """Refuse to start with a currency Patron does not know (called by apps.ready)."""
    minor_unit()


def money_field(**kwargs):
    """A model field for an amount: `DecimalField`, wide enough for every currency above."""
    from django.db import models

    return models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


def money_form_field(**kwargs):
    """A form field that reads an amount with `parse_amount` (a clear message, never rounding)."""
    from django import forms

    class MoneyFormField(forms.CharField):
        def __init__(self, *, allow_negative=True, **options):
            self.allow_negative = allow_negative
            options.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
            super().__init__(**options)

        def prepare_value(self, value):
            if isinstance(value, Decimal):
                return f"{to_money(value):f}"
            return value

        def to_python(self, value):
            text = (super().to_python(value) or "").strip()
            if not text:
                return None
            return parse_amount(
                text, label=str(self.label or "Amount"), allow_negative=self.allow_negative
            )

    return MoneyFormField(**kwargs)
