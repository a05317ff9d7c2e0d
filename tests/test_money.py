"""Money is exact: one currency, Decimal everywhere, rounding half-up to the minor unit."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from patron.core import money
from patron.core.money import format_money, money_sum, parse_amount, to_money


def test_default_currency_is_gbp_with_two_decimals(settings):
    assert money.currency() == "GBP"
    assert money.minor_unit() == 2
    assert money.quantum() == Decimal("0.01")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.345", "2.35"),
        ("2.344", "2.34"),
        ("-2.345", "-2.35"),  # half away from zero
        ("0.005", "0.01"),
        (Decimal("45"), "45.00"),
        (7, "7.00"),
    ],
)
def test_to_money_rounds_half_up(value, expected):
    assert to_money(value) == Decimal(expected)
    assert str(to_money(value)) == expected


def test_to_money_follows_the_currency(settings):
    settings.PATRON_CURRENCY = "JPY"
    assert to_money("1234.5") == Decimal("1235")
    settings.PATRON_CURRENCY = "KWD"
    assert to_money("1.2345") == Decimal("1.235")


def test_an_unknown_currency_is_refused_clearly(settings):
    settings.PATRON_CURRENCY = "XYZ"
    with pytest.raises(ValueError, match="PATRON_CURRENCY=XYZ is not a currency"):
        to_money("1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45", "45.00"),
        ("45.5", "45.50"),
        ("1,204.50", "1204.50"),
        ("£1,204.50", "1204.50"),
        (" -5 ", "-5.00"),
        ("−5.00", "-5.00"),
        ("0.10", "0.10"),
        ("45.500", "45.50"),  # trailing zeros are not extra precision
    ],
)
def test_parse_amount_reads_what_people_type(text, expected):
    assert parse_amount(text) == Decimal(expected)


def test_parse_amount_refuses_more_decimals_than_the_currency():
    with pytest.raises(ValidationError) as exc:
        parse_amount("45.505", label="Price")
    assert exc.value.messages == ["Price: GBP amounts have at most 2 decimals; “45.505” has 3."]


def test_parse_amount_refuses_decimals_for_a_whole_currency(settings):
    settings.PATRON_CURRENCY = "JPY"
    with pytest.raises(ValidationError, match="JPY amounts are whole numbers"):
        parse_amount("100.5")


@pytest.mark.parametrize("text", ["", "abc", "12,34", "1.2.3", "--5", "£", "1e5", "nan"])
def test_parse_amount_refuses_text_that_is_not_an_amount(text):
    with pytest.raises(ValidationError, match="is not an amount"):
        parse_amount(text)


def test_parse_amount_can_refuse_negative_amounts():
    with pytest.raises(ValidationError, match="Price cannot be negative"):
        parse_amount("-1", label="Price", allow_negative=False)


def test_format_money():
    assert format_money(Decimal("1204.5")) == "£1,204.50"
    assert format_money(Decimal("-5")) == "\u2212£5.00"
    assert format_money(Decimal("5"), signed=True) == "+£5.00"
    assert format_money(Decimal("0")) == "£0.00"
    assert format_money(Decimal("1234"), code="JPY") == "¥1,234"
    assert format_money(Decimal("1.5"), code="SEK") == "1.50 SEK"


# --- no float anywhere on a money path -------------------------------------


@pytest.mark.parametrize("call", [to_money, format_money, lambda v: money_sum([v])])
def test_every_money_function_refuses_a_float(call):
    with pytest.raises(TypeError, match="never a float"):
        call(0.1)


def test_parse_amount_refuses_a_float():
    with pytest.raises(TypeError, match="never a float"):
        parse_amount(0.1)


def test_money_functions_never_return_a_float():
    results = [
        to_money("0.1"),
        parse_amount("0.10"),
        money_sum([Decimal("0.1"), Decimal("0.2"), 3]),
    ]
    assert all(type(r) is Decimal for r in results)
    # Never 0.30000000000000004.
    assert money_sum([Decimal("0.1"), Decimal("0.2")]) == Decimal("0.30")


def test_every_money_column_is_a_decimal_field():
    """No FloatField in the ledger, the catalogue or customer services."""
    from django.apps import apps

    for label in ("ledger", "catalogue", "subscriptions"):
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.concrete_fields:
                assert not isinstance(field, models.FloatField), f"{model.__name__}.{field.name}"
    money_fields = {
        ("LedgerEntry", "amount"),
        ("LedgerEntry", "running_balance"),
        ("Balance", "amount"),
        ("Service", "price"),
        ("CustomerService", "price_override"),
    }
    for model_name, field_name in money_fields:
        model = next(m for m in apps.get_models() if m.__name__ == model_name)
        field = model._meta.get_field(field_name)
        assert isinstance(field, models.DecimalField)
        assert field.decimal_places == money.MONEY_DECIMAL_PLACES


@pytest.mark.django_db
def test_amounts_read_back_from_the_database_are_decimals(actor):
    """What the database gives back (a row, a sum) is a Decimal on SQLite and PostgreSQL."""
    from django.db.models import Sum

    from patron.ledger.models import Balance, LedgerEntry
    from patron.ledger.services import ledger_post
    from tests.factories import CustomerFactory

    customer = CustomerFactory()
    for amount in ("0.10", "0.20", "0.05"):
        ledger_post(actor=actor, customer=customer, kind="invoice", amount=Decimal(amount))
    entry = LedgerEntry.objects.order_by("-id").first()
    assert type(entry.amount) is Decimal and type(entry.running_balance) is Decimal
    total = LedgerEntry.objects.aggregate(total=Sum("amount"))["total"]
    assert type(total) is Decimal and to_money(total) == Decimal("0.35")
    balance = Balance.objects.get(customer=customer)
    assert type(balance.amount) is Decimal and balance.amount == Decimal("0.35")
