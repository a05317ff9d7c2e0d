"""The customer overview with its work cards: banners, notes, tasks, tickets,
calls and custom fields, in a number of queries that does not grow with them."""

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.banners.services import banner_rule_create
from patron.calls.services import call_log_create
from patron.core.cards import overview_cards
from patron.customers import services as customer_services
from patron.customfields.services import custom_field_create, customer_custom_fields_set
from patron.notes import services as note_services
from tests.factories import NoteFactory, TagFactory, TaskFactory, TicketFactory
from tests.test_customfields import issue4_roles  # noqa: F401
from tests.work_fixtures import *  # noqa: F403 (the shared fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("work_roles", "issue4_roles")]

SECRET = "Arrears plan agreed with the debt adviser"


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def overview(client, customer, query=""):
    response = client.get(reverse("customers:detail", args=[customer.pk]) + query)
    assert response.status_code == 200
    return response


def test_overview_shows_every_work_card(login, owner, actor, customer, billing):
    """The overview has the banners, notes, tickets, tasks, calls and custom fields cards."""
    vulnerable = TagFactory(name="Vulnerable")
    customer_services.customer_tags_set(actor=actor, customer=customer, tags=[vulnerable])
    banner_rule_create(
        actor=actor,
        data={
            "name": "Vulnerable",
            "message": "Vulnerable customer: follow the care policy",
            "severity": "danger",
            "tag": vulnerable,
        },
    )
    speed = custom_field_create(
        actor=actor,
        data={"label": "Line speed", "field_type": "number", "show_on_overview": True},
    )
    customer_custom_fields_set(actor=actor, customer=customer, values={speed.key: 80})
    note_services.note_create(
        actor=actor, customer=customer, data={"department": billing, "body": "Prefers email"}
    )
    TaskFactory(customer=customer, department=billing, title="Send the new router")
    TicketFactory(customer=customer, department=billing, subject="No dial tone")
    call_log_create(actor=actor, customer=customer, data={"summary": "Asked about the bill"})

    html = overview(login(owner), customer).content.decode()

    for text in [
        "Vulnerable customer: follow the care policy",
        'data-testid="notes-card"',
        "Prefers email",
        'data-testid="tasks-card"',
        "Send the new router",
        'data-testid="tickets-card"',
        "No dial tone",
        'id="card-calls"',
        "Asked about the bill",
        'data-testid="log-call"',
        "Line speed",
        'data-testid="custom-tab"',
        reverse("customfields:customer_edit", args=[customer.pk]),
    ]:
        assert text in html, text
    # The banner sits under the top row, before the cards.
    assert html.index('id="topline"') < html.index("Vulnerable customer") < html.index("notes-card")


def test_banners_are_ordered_by_severity(login, owner, actor, customer):
    tag = TagFactory(name="Watch")
    customer_services.customer_tags_set(actor=actor, customer=customer, tags=[tag])
    for severity in ["info", "danger", "warning"]:
        banner_rule_create(
            actor=actor,
            data={
                "name": severity,
                "message": f"{severity} banner",
                "severity": severity,
                "tag": tag,
            },
        )
    html = overview(login(owner), customer).content.decode()
    assert html.index("danger banner") < html.index("warning banner") < html.index("info banner")


def test_pinned_notes_come_first(login, owner, customer, billing):
    NoteFactory(customer=customer, department=billing, body="An older pinned note", pinned=True)
    NoteFactory(customer=customer, department=billing, body="The newest note")
    notes = overview(login(owner), customer).context["notes"]
    assert [n.body for n in notes] == ["An older pinned note", "The newest note"]


def test_private_note_only_for_members_and_owners(
    login, owner, staff, bella, bella_actor, customer, billing
):
    """A department-private note is on the overview of Billing members and Owners only."""
    note_services.note_create(
        actor=bella_actor,
        customer=customer,
        data={"department": billing, "body": SECRET, "private_to_department": True},
    )
    client = login(bella)
    assert SECRET in overview(client, customer).content.decode()
    client = login(owner)
    assert SECRET in overview(client, customer).content.decode()
    client = login(staff)
    html = overview(client, customer).content.decode()
    assert SECRET not in html
    assert overview(client, customer).context["notes"] == []


def test_closed_tickets_hidden_unless_asked(login, owner, customer, billing):
    TicketFactory(customer=customer, department=billing, subject="Still broken")
    TicketFactory(customer=customer, department=billing, subject="Fixed last week", status="closed")
    client = login(owner)
    html = overview(client, customer).content.decode()
    assert "Still broken" in html
    assert "Fixed last week" not in html
    assert "Show closed tickets (1)" in html
    assert "Fixed last week" in overview(client, customer, "?closed_tickets=1").content.decode()


def test_log_a_call_is_two_clicks(login, owner, customer):
    """ "Log a call" opens a form whose defaults are enough: "Save" logs the call."""
    client = login(owner)
    html = overview(client, customer).content.decode()
    assert reverse("calls:new", args=[customer.pk]) in html
    form = client.get(reverse("calls:new", args=[customer.pk]), HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    call_form = form.context["call_form"]
    data = {name: call_form[name].value() for name in call_form.fields}
    data = {name: value for name, value in data.items() if value is not None}
    response = client.post(reverse("calls:new", args=[customer.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert customer.call_logs.count() == 1


def test_overview_query_count_does_not_grow(login, owner, actor, customer, billing):
    """Two or twelve of each kind of work, banners and custom fields: the same queries."""
    client = login(owner)
    url = reverse("customers:detail", args=[customer.pk])

    def add(count, offset):
        tags = [TagFactory(name=f"Tag {offset + i}") for i in range(count)]
        customer_services.customer_tags_set(
            actor=actor, customer=customer, tags=[*customer.tags.all(), *tags]
        )
        for i, tag in enumerate(tags):
            banner_rule_create(
                actor=actor,
                data={"name": f"Rule {offset + i}", "message": "Careful", "tag": tag},
            )
            field = custom_field_create(
                actor=actor,
                data={"label": f"Field {offset + i}", "show_on_overview": True},
            )
            customer_custom_fields_set(actor=actor, customer=customer, values={field.key: "x"})
            call_log_create(actor=actor, customer=customer, data={"summary": f"Call {i}"})
        NoteFactory.create_batch(count, customer=customer, department=billing, pinned=True)
        TaskFactory.create_batch(count, customer=customer, department=billing)
        TicketFactory.create_batch(count, customer=customer, department=billing)
        TicketFactory.create_batch(count, customer=customer, department=billing, status="closed")

    add(2, 0)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert len(response.context["banners"]) == 2
    add(10, 2)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["banners"]) == 12
    assert len(response.context["notes"]) == 12
    assert len(response.context["tickets"]) == 12
    assert len(response.context["custom_field_rows"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries)


def test_overview_draws_the_registered_cards_column_by_column(login, owner, customer):
    """The page is the card registry's cards in its order: the narrow column, then the wide one."""
    html = overview(login(owner), customer).content.decode()
    marks = [
        'id="topline"',
        'id="card-profile"',
        'id="card-custom-fields"',
        'id="card-tags"',
        'id="card-groups"',
        'id="card-segments"',
        'id="card-status"',
        'id="card-notes"',
        'data-testid="notes-card"',
        'data-testid="tickets-card"',
        'data-testid="tasks-card"',
        'id="card-calls"',
        'id="card-contacts"',
        'id="card-events"',
    ]
    positions = [html.index(mark) for mark in marks]
    assert positions == sorted(positions)
    assert [card.name for card in overview_cards.columns()["top"]] == ["banners"]


def card_templates(templates: dict) -> list:
    """Patron's template settings with `templates` (name -> source) found first."""
    engine = dict(settings.TEMPLATES[0])
    engine["APP_DIRS"] = False
    engine["OPTIONS"] = {
        **engine["OPTIONS"],
        "loaders": [
            ("django.template.loaders.locmem.Loader", templates),
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    }
    return [engine]


def test_a_new_app_adds_a_card_by_registering_it(login, owner, customer):
    """What a new app does in its ready(): register a template, a column, a position and a
    context; the overview shows it in place without the customers app knowing the app."""

    def context(request, customer):
        return {"loyalty_points": 120 if request.user.is_authenticated else 0}

    template = '<div id="card-loyalty">{{ customer.name }}: {{ loyalty_points }} points</div>'
    overview_cards.register(
        "loyalty",
        template="loyalty/_customer_card.html",
        column="main",
        position=45,
        context=context,
    )
    try:
        with override_settings(TEMPLATES=card_templates({"loyalty/_customer_card.html": template})):
            html = overview(login(owner), customer).content.decode()
    finally:
        overview_cards.unregister("loyalty")
    assert f"{customer.name}: 120 points" in html
    assert html.index('id="card-calls"') < html.index('id="card-loyalty"')
    assert html.index('id="card-loyalty"') < html.index('id="card-contacts"')
    assert "card-loyalty" not in overview(login(owner), customer).content.decode()


def test_a_card_name_is_registered_once():
    """Two apps cannot both claim one card name (a clash is found when Django starts)."""
    with pytest.raises(ImproperlyConfigured):
        overview_cards.register("notes", template="other/_notes.html", column="main", position=1)
    with pytest.raises(ImproperlyConfigured):
        overview_cards.register("elsewhere", template="x.html", column="footer", position=1)


def test_custom_fields_tab_shows_the_banners_too(login, owner, actor, customer):
    """The cards under the top row (the alert banners) are on the customer's custom
    fields tab as on the overview, drawn from the same registry."""
    vulnerable = TagFactory(name="Vulnerable")
    customer_services.customer_tags_set(actor=actor, customer=customer, tags=[vulnerable])
    banner_rule_create(
        actor=actor,
        data={"name": "Care", "message": "Follow the care policy", "tag": vulnerable},
    )
    response = login(owner).get(reverse("customfields:customer_edit", args=[customer.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="customer-banners"' in html
    assert "Follow the care policy" in html
