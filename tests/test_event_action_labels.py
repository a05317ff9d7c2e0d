"""The event log's action filter offers, with a human label, every action the money apps
(ledger, catalogue, subscriptions) write, and narrows the log to it."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from patron.catalogue import services as catalogue
from patron.events.filters import ACTION_LABELS
from patron.events.models import Event
from patron.ledger.services import ledger_adjust
from patron.subscriptions import services as subscriptions
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def money_events(actor):
    """One event of each action the money apps write, through their services."""
    catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": Decimal("20.00"), "is_default": True}
    )
    fibre = catalogue.service_create(
        actor=actor,
        data={"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": Decimal("45")},
    )
    customer = CustomerFactory(name="Ann")
    item = subscriptions.customer_service_add(actor=actor, customer=customer, service=fibre)
    item = subscriptions.customer_service_update(
        actor=actor, customer_service=item, data={"quantity": 2}
    )
    subscriptions.customer_service_end(actor=actor, customer_service=item, reason="Moving")
    ledger_adjust(actor=actor, customer=customer, amount="-12.50", reason="Goodwill")
    return customer


def selected_option(html: str) -> tuple[str, str]:
    select = re.search(r'<select[^>]*name="action".*?</select>', html, re.S).group(0)
    value, label = re.search(r'<option value="([^"]*)"[^>]*selected[^>]*>([^<]*)<', select).groups()
    return value, label.strip()


def test_every_money_action_is_offered_labelled_and_filters(client, owner, money_events):
    written = set(Event.objects.values_list("action", flat=True))
    # What the services above wrote: the catalogue's and subscriptions' creates and
    # changes, the end of a customer service and the ledger's adjustment.
    assert {"created", "updated", "ended", "balance_adjusted"} <= written
    client.force_login(owner)
    for action in sorted(written):
        assert action in ACTION_LABELS, f"the event log has no label for “{action}”"
        response = client.get(reverse("events:list"), {"action": action})
        assert response.status_code == 200
        html = response.content.decode()
        assert selected_option(html) == (action, ACTION_LABELS[action])
        shown = {e.action for e in response.context["page_obj"]}
        assert shown == {action}


def test_money_actions_read_as_people_say_them(client, owner, money_events):
    client.force_login(owner)
    html = client.get(reverse("events:list"), {"action": "balance_adjusted"}).content.decode()
    assert selected_option(html) == ("balance_adjusted", "Balance adjusted")
    assert "Adjusted the balance by" in html
    assert "Ended service" not in html
    html = client.get(reverse("events:list"), {"action": "ended"}).content.decode()
    assert selected_option(html) == ("ended", "Service ended")
    assert "Ended service Fibre 500" in html
    assert "Adjusted the balance by" not in html
