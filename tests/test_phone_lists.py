"""Groups from phone lists (ORG-6): matches join the group; bad lines are listed back."""

import pytest
from django.urls import reverse

from patron.accounts.models import Role
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.models import GroupMembership
from patron.events.models import Event
from patron.imports.phone_lists import phone_list_apply, phone_list_preview
from tests.conftest import token_client
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    GroupFactory,
    GroupSetFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db

NUMBERS = """+44 113 496 0001
0044 7400 123456

not a number
+44 113 496 0001
+44 113 496 0999
07400 123457
+44 113 496 0003
"""


@pytest.fixture
def world(db):
    regions = GroupSetFactory(name="Region", single_choice=True)
    leeds = GroupFactory(name="Leeds", group_set=regions)
    york = GroupFactory(name="York", group_set=regions)
    ann = CustomerFactory(name="Ann")
    bob = CustomerFactory(name="Bob")
    cat = CustomerFactory(name="Cat")
    ContactFactory(customer=ann, phone="+441134960001")
    ContactFactory(customer=bob, phone="", mobile="+447400123456")
    ContactFactory(customer=cat, phone="+441134960003")
    GroupMembership.objects.create(customer=cat, group=york, group_set=regions, exclusive=True)
    return {"leeds": leeds, "york": york, "ann": ann, "bob": bob, "cat": cat}


def problems(result):
    return [(line.line, line.problem, line.message) for line in result.problems]


def test_preview_lists_matches_and_every_bad_line(actor, world):
    result = phone_list_preview(actor=actor, group=world["leeds"], text=NUMBERS)
    assert [(line.line, line.number) for line in result.matched] == [
        (1, "+441134960001"),
        (2, "+447400123456"),
        (8, "+441134960003"),
    ]
    assert problems(result) == [
        (4, "invalid", "“not a number” has no country code; write it as +44 …"),
        (5, "duplicate", "The same number as line 1."),
        (6, "unknown", "No customer has this number."),
        (7, "invalid", "“07400 123457” has no country code; write it as +44 …"),
    ]
    assert result.to_add == [world["ann"], world["bob"]]
    ((customer, message),) = result.conflicts
    assert customer == world["cat"] and "single-choice set “Region”" in message
    assert GroupMembership.objects.filter(group=world["leeds"]).count() == 0


def test_apply_adds_through_the_membership_service_and_logs_it(actor, world):
    result = phone_list_apply(actor=actor, group=world["leeds"].pk, text=NUMBERS)
    assert result.applied and result.to_add == [world["ann"], world["bob"]]
    members = set(
        GroupMembership.objects.filter(group=world["leeds"]).values_list("customer", flat=True)
    )
    assert members == {world["ann"].pk, world["bob"].pk}
    assert Event.objects.filter(action="groups_changed", customer=world["ann"]).count() == 1
    assert world["cat"].groups.get() == world["york"], "the conflict changed nothing"
    again = phone_list_preview(actor=actor, group=world["leeds"], text=NUMBERS)
    assert again.to_add == [] and again.already == [world["ann"], world["bob"]]


def test_invalid_number_with_a_country_code(actor, world):
    result = phone_list_preview(actor=actor, group=world["leeds"], text="+44 12\n+999 1234567\n")
    assert [p[1] for p in problems(result)] == ["invalid", "invalid"]
    assert problems(result)[0][2] == "“+44 12” is not a valid phone number."


def test_empty_lists_and_bad_groups_are_refused(actor, world):
    with pytest.raises(ValidationError, match="at least one"):
        phone_list_preview(actor=actor, group=world["leeds"], text="\n  \n")
    with pytest.raises(ValidationError, match="existing group"):
        phone_list_preview(actor=actor, group=99999, text="+441134960001")
    world["leeds"].archived = True
    world["leeds"].save()
    with pytest.raises(ValidationError, match="archived"):
        phone_list_preview(actor=actor, group=world["leeds"].pk, text="+441134960001")


def test_a_restricted_user_matches_only_their_customers(world):
    user = user_with_role(Role.STAFF, username="yorky")
    user.restricted_groups.add(world["york"])
    result = phone_list_preview(actor=Actor(user=user), group=world["leeds"], text=NUMBERS)
    assert [line.number for line in result.matched] == ["+441134960003"]
    assert [p[1] for p in problems(result)].count("unknown") == 3


def test_read_only_users_cannot_use_phone_lists(readonly, world):
    with pytest.raises(PermissionDenied):
        phone_list_preview(actor=Actor(user=readonly), group=world["leeds"], text=NUMBERS)


def test_phone_list_page_previews_then_applies(client, owner, world):
    client.force_login(owner)
    url = reverse("imports:phone_list")
    assert client.get(url).status_code == 200
    data = {"group": world["leeds"].pk, "numbers": NUMBERS}
    preview = client.post(url, {**data, "action": "preview"})
    body = preview.content.decode()
    assert "<strong>2</strong> customers will be added" in body and "not a number" in body
    assert GroupMembership.objects.filter(group=world["leeds"]).count() == 0
    applied = client.post(url, {**data, "action": "apply"})
    assert "Added <strong>2</strong> customers" in applied.content.decode()
    assert GroupMembership.objects.filter(group=world["leeds"]).count() == 2


def test_phone_list_page_shows_form_errors(client, owner, world):
    client.force_login(owner)
    response = client.post(reverse("imports:phone_list"), {"group": "", "numbers": ""})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"group", "numbers"}


def test_phone_list_api(owner, world, readonly):
    api = token_client(owner)
    data = {"group": world["leeds"].pk, "numbers": NUMBERS}
    preview = api.post("/api/phone-lists/preview/", data, format="json")
    assert preview.status_code == 200
    body = preview.json()
    assert [c["name"] for c in body["to_add"]] == ["Ann", "Bob"]
    assert [p["problem"] for p in body["problems"]] == [
        "invalid",
        "duplicate",
        "unknown",
        "invalid",
    ]
    assert body["conflicts"][0]["name"] == "Cat"
    applied = api.post("/api/phone-lists/apply/", data, format="json")
    assert [c["name"] for c in applied.json()["added"]] == ["Ann", "Bob"]
    bad = api.post(
        "/api/phone-lists/preview/", {"group": world["leeds"].pk, "numbers": " "}, format="json"
    )
    assert bad.status_code == 400 and "numbers" in bad.json()
    assert (
        token_client(readonly).post("/api/phone-lists/apply/", data, format="json").status_code
        == 403
    )


# --- digits without "+" (#15 item 8) --------------------------------------------------

SEED_NUMBERS = """380980000000
447400613457
2039544008
07400 123457
"""


@pytest.fixture
def seeded(world):
    olga = CustomerFactory(name="Olga")
    ContactFactory(customer=olga, phone="", mobile="+380980000000")
    ContactFactory(customer=world["ann"], phone="", mobile="+447400613457")
    return {**world, "olga": olga}


def test_digits_with_a_country_code_but_no_plus_are_read_as_international(actor, seeded):
    result = phone_list_preview(actor=actor, group=seeded["leeds"], text=SEED_NUMBERS)
    assert [(line.line, line.number, line.reading) for line in result.matched] == [
        (1, "+380980000000", "+380 98 000 0000 (Ukraine)"),
        (2, "+447400613457", "+44 7400 613457 (United Kingdom)"),
    ]
    assert [line.note for line in result.read_without_plus] == [
        "“380980000000” read as +380 98 000 0000 (Ukraine).",
        "“447400613457” read as +44 7400 613457 (United Kingdom).",
    ]
    assert result.to_add == [seeded["olga"], seeded["ann"]]


def test_digits_valid_both_ways_are_refused_naming_both_readings(actor, seeded):
    result = phone_list_preview(actor=actor, group=seeded["leeds"], text=SEED_NUMBERS)
    assert problems(result) == [
        (
            3,
            "ambiguous",
            "“2039544008” could be +20 3 9544008 (Egypt) or +44 20 3954 4008 (United Kingdom); "
            "write it with “+” and its country code.",
        ),
        (4, "invalid", "“07400 123457” has no country code; write it as +44 …"),
    ]
    written = phone_list_preview(actor=actor, group=seeded["leeds"], text="+20 3 9544008")
    assert [p[1] for p in problems(written)] == ["unknown"], "with “+” it is not ambiguous"


def test_a_national_number_without_a_trunk_zero_is_still_refused(actor, seeded):
    result = phone_list_preview(actor=actor, group=seeded["leeds"], text="7400123456\n")
    assert problems(result) == [
        (1, "invalid", "“7400123456” has no country code; write it as +44 …")
    ]


def test_a_read_number_counts_as_a_duplicate_of_the_same_number_with_plus(actor, seeded):
    text = "+380 98 000 0000\n380-98-000-0000\n"
    result = phone_list_preview(actor=actor, group=seeded["leeds"], text=text)
    assert problems(result) == [(2, "duplicate", "The same number as line 1.")]
    assert result.lines[1].reading == "+380 98 000 0000 (Ukraine)"


def test_apply_adds_customers_matched_by_a_reading(actor, seeded):
    result = phone_list_apply(actor=actor, group=seeded["leeds"], text=SEED_NUMBERS)
    assert result.to_add == [seeded["olga"], seeded["ann"]]
    assert seeded["olga"].groups.get() == seeded["leeds"]


def test_phone_list_page_shows_the_reading_used(client, owner, seeded):
    client.force_login(owner)
    data = {"group": seeded["leeds"].pk, "numbers": SEED_NUMBERS, "action": "preview"}
    body = client.post(reverse("imports:phone_list"), data).content.decode()
    assert "Read as international numbers (2)" in body
    assert "“380980000000” read as +380 98 000 0000 (Ukraine)." in body
    assert "read as +44 7400 613457 (United Kingdom)" in body
    assert "could be +20 3 9544008 (Egypt) or +44 20 3954 4008 (United Kingdom)" in body
    assert "<strong>2</strong> customers will be added" in body


def test_phone_list_api_reports_the_reading(owner, seeded):
    api = token_client(owner)
    data = {"group": seeded["leeds"].pk, "numbers": SEED_NUMBERS}
    body = api.post("/api/phone-lists/preview/", data, format="json").json()
    assert [m["reading"] for m in body["matched"]] == [
        "+380 98 000 0000 (Ukraine)",
        "+44 7400 613457 (United Kingdom)",
    ]
    assert [p["problem"] for p in body["problems"]] == ["ambiguous", "invalid"]
