"""Query-count baselines for the pages people open all day.

The customer list, the customer overview, the global event log and their API
twins must issue the same number of queries whether a customer has one tag,
contact, group and event or five of each: anything else is an N+1 that
makes a busy account slow to open.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.accounts.models import Role
from patron.customers import services
from patron.groups.models import GroupSet
from patron.statuses.models import Status
from tests.conftest import token_client
from tests.factories import CustomerFactory, GroupFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

SIZES = (1, 5)


def grow(actor, customer, n: int) -> None:
    """Give `customer` n tags, n groups, n contacts and n events of each kind."""
    region = GroupSet.objects.create(name=f"Region {customer.pk}-{n}", single_choice=False)
    tags = [TagFactory() for _ in range(n)]
    groups = [GroupFactory(group_set=region) for _ in range(n)]
    services.customer_tags_set(actor=actor, customer=customer, tags=tags)
    services.customer_groups_set(actor=actor, customer=customer, groups=groups)
    for i in range(n):
        services.contact_create(
            actor=actor, customer=customer, data={"name": f"Contact {i}", "phone": "+447911123456"}
        )
        services.customer_update(actor=actor, customer=customer, data={"notes": f"note {i}"})
    statuses = [Status.objects.get(name="Suspended"), Status.objects.get(name="Active")]
    for i in range(n):
        services.customer_status_change(
            actor=actor, customer=customer, status=statuses[i % 2], reason=f"reason {i}"
        )
        customer.refresh_from_db()


def count_queries(client, url) -> tuple[int, object]:
    """Queries of one GET of `url`, after a first GET warmed the once-per-process caches
    (content types, a token's last-used stamp)."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries.captured_queries), response


def counts_by_size(client, actor, url_for) -> dict[int, int]:
    """Query counts for the page of a customer grown to each size in SIZES."""
    counts = {}
    for n in SIZES:
        customers = [CustomerFactory(name=f"Size {n} customer {i}") for i in range(2)]
        for customer in customers:
            grow(actor, customer, n)
        counts[n], _ = count_queries(client, url_for(customers[0]))
    return counts


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def restricted_staff(db):
    """A Staff user who may only see members of one group (the restricted read path)."""
    region = GroupSet.objects.create(name="Patch", single_choice=False)
    patch = GroupFactory(group_set=region, name="Patch A")
    user = UserFactory(role=Role.objects.get(name=Role.STAFF), username="patchy")
    user.restricted_groups.add(patch)
    return user, patch


def test_overview_queries_same_for_one_or_five_of_everything(owner_client, actor):
    """The overview costs the same queries with 1 or 5 tags, groups, contacts and events."""
    counts = counts_by_size(owner_client, actor, lambda c: reverse("customers:detail", args=[c.pk]))
    assert counts[1] == counts[5], counts


def test_overview_shows_everything_it_counted(owner_client, actor):
    """The fixed count is not bought by leaving things out: all five of each are shown."""
    customer = CustomerFactory(name="Five Of Everything")
    grow(actor, customer, 5)
    _, response = count_queries(owner_client, reverse("customers:detail", args=[customer.pk]))
    assert len(response.context["tags"]) == 5
    assert len(response.context["groups"]) == 5
    assert len(response.context["contacts"]) == 5
    # 5 contacts + 5 edits + tags + groups + 5 status changes.
    assert response.context["events"].paginator.count == 17


def test_event_log_card_queries_same_for_one_or_five_events(owner_client, actor):
    counts = counts_by_size(owner_client, actor, lambda c: reverse("customers:events", args=[c.pk]))
    assert counts[1] == counts[5], counts


def test_list_page_queries_same_for_one_or_five_tags_and_groups(owner_client, actor):
    """The list page shows tags and groups of every row with a fixed number of queries."""
    counts = counts_by_size(owner_client, actor, lambda c: reverse("customers:list"))
    assert counts[1] == counts[5], counts
    _, response = count_queries(owner_client, reverse("customers:list"))
    assert len(response.context["rows"]) == 4


def test_list_page_filtered_by_tag_and_group_has_fixed_queries(owner_client, actor):
    def url_for(customer):
        tag = customer.tags.first()
        group = customer.groups.first()
        return reverse("customers:list") + f"?tag={tag.pk}&group={group.pk}"

    counts = counts_by_size(owner_client, actor, url_for)
    assert counts[1] == counts[5], counts


def test_restricted_user_pages_have_fixed_queries(client, actor, restricted_staff):
    """Group-restricted users take another read path; it is N+1-free too."""
    user, patch = restricted_staff
    client.force_login(user)
    counts = {}
    for n in SIZES:
        customer = CustomerFactory(name=f"Patch customer {n}")
        grow(actor, customer, n)
        services.customer_group_add(actor=actor, customer=customer, group=patch)
        list_count, response = count_queries(client, reverse("customers:list"))
        detail_count, _ = count_queries(client, reverse("customers:detail", args=[customer.pk]))
        counts[n] = (list_count, detail_count)
    assert counts[1] == counts[5], counts
    assert [obj.name for obj, _ in response.context["rows"]] == [
        "Patch customer 5",
        "Patch customer 1",
    ]


def test_global_event_log_queries_same_for_few_or_many_events(owner_client, actor):
    counts = counts_by_size(owner_client, actor, lambda c: reverse("events:list"))
    assert counts[1] == counts[5], counts


@pytest.mark.parametrize("detail", [False, True], ids=["list", "detail"])
def test_customer_api_queries_same_for_one_or_five(owner, actor, detail):
    client = token_client(owner)

    def url_for(customer):
        if detail:
            return f"/api/customers/{customer.pk}/"
        return "/api/customers/"

    counts = counts_by_size(client, actor, url_for)
    assert counts[1] == counts[5], counts


def test_event_api_queries_same_for_few_or_many_events(owner, actor):
    client = token_client(owner)
    counts = counts_by_size(client, actor, lambda c: f"/api/events/?customer={c.pk}")
    assert counts[1] == counts[5], counts
