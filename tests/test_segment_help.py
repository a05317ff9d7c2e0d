"""The segment language's help page (`/segments/help/`): fields, operators, live names
within what the user may see, and examples that work on the demo data; linked from the
segment editor and the customer list. The editor shows a query's error once, with the
customer list's error component; a saved segment links to the list, bulk and export."""

import re
from urllib.parse import quote_plus

import pytest
from django.urls import reverse

from patron.accounts.models import Role
from patron.core.actor import Actor
from patron.customers import services as customer_services
from patron.ops.demo import load_demo
from patron.segments import help as language_help
from patron.segments import services as segment_services
from patron.segments.language import segment_queryset
from patron.segments.language.fields import SPECS
from tests.factories import CustomerFactory, GroupFactory, TagFactory, user_with_role

pytestmark = pytest.mark.django_db


def test_every_field_of_the_language_is_described_and_nothing_else():
    described = {f.field for f in language_help.FIELDS}
    assert described == {*SPECS, "custom"}


def test_every_example_on_the_page_selects_someone_in_the_demo(owner):
    """Each example of the page (the examples table and each field's) parses, runs and
    selects at least one customer of the demo data (`patron demo`)."""
    load_demo()
    queries = [e.query for e in language_help.EXAMPLES]
    queries += [q for f in language_help.FIELDS for q in f.examples]
    empty = [q for q in queries if not segment_queryset(q, user=owner).exists()]
    assert empty == []


def test_the_page_shows_fields_operators_examples_and_live_names(client, owner):
    TagFactory(name="Churn risk")
    GroupFactory(name="North")
    client.force_login(owner)
    response = client.get(reverse("segments:help"))
    assert response.status_code == 200
    html = response.content.decode()
    for field in language_help.FIELDS:
        assert f'data-field="{field.field}"' in html
    assert '<code class="text-body">not</code>' in html
    for example in language_help.EXAMPLES:
        assert f"?q={quote_plus(example.query)}" in html.replace("&amp;", "&")
    names = re.search(r'data-names="tag">(.*?)</div>', html, re.S).group(1)
    assert "tag:&quot;Churn risk&quot;" in names
    assert "group:North" in html


def test_a_restricted_user_sees_only_the_groups_they_may_see(client):
    north = GroupFactory(name="North")
    GroupFactory(name="Secret South", group_set=north.group_set)
    user = user_with_role(Role.STAFF, username="northern")
    user.restricted_groups.add(north)
    client.force_login(user)
    html = client.get(reverse("segments:help")).content.decode()
    assert "group:North" in html
    assert "Secret South" not in html


def test_the_editor_and_the_customer_list_link_to_the_help(client, owner):
    client.force_login(owner)
    help_url = reverse("segments:help")
    assert f'href="{help_url}"' in client.get(reverse("segments:add")).content.decode()
    assert f'href="{help_url}"' in client.get(reverse("customers:list")).content.decode()


def test_the_preview_uses_the_lists_error_component(client, owner):
    """The preview's error is the customer list's: message, the faulty part marked, the fix."""
    TagFactory(name="vip")
    client.force_login(owner)
    response = client.get(reverse("segments:preview"), {"query": "tag:vpi"})
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('data-testid="query-error"') == 1
    assert "unknown tag &#x27;vpi&#x27; at column 5; did you mean &#x27;vip&#x27;?" in html
    assert '<mark class="bg-danger-subtle text-danger-emphasis">vpi</mark>' in html
    assert 'data-fixed-query="tag:vip"' in html
    ok = client.get(reverse("segments:preview"), {"query": "tag:vip"}).content.decode()
    assert "query-error" not in ok


def test_a_refused_query_on_save_shows_one_message(client, owner):
    """Saving a wrong query: its message once, in the preview, not again under the field."""
    TagFactory(name="vip")
    client.force_login(owner)
    response = client.post(reverse("segments:add"), {"name": "Bad", "query": "tag:vpi"})
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count("unknown tag &#x27;vpi&#x27;") == 1
    assert html.count('data-testid="query-error"') == 1
    assert 'data-field-error="query"' not in html
    empty = client.post(reverse("segments:add"), {"name": "Empty", "query": ""})
    html = empty.content.decode()
    assert html.count('data-testid="query-error"') == 1
    assert 'data-field-error="query"' not in html


def test_a_saved_segment_opens_in_the_list_bulk_and_export(client, owner):
    vip = TagFactory(name="vip")
    customer = CustomerFactory()
    system = Actor.system_actor("tests")
    customer_services.customer_tags_set(actor=system, customer=customer, tags=[vip])
    segment = segment_services.segment_create(
        actor=Actor(user=owner), data={"name": "VIPs", "query": 'tag:vip and city:"Leeds"'}
    )
    client.force_login(owner)
    html = client.get(segment.get_absolute_url()).content.decode().replace("&amp;", "&")
    q = "q=" + quote_plus('tag:vip and city:"Leeds"')
    assert f'href="{reverse("customers:list")}?{q}"' in html
    assert f'href="{reverse("jobs:bulk")}?{q}"' in html
    assert f'href="{reverse("imports:export")}?{q}"' in html
    # The pages behind the buttons read the query: the list shows the customer.
    listing = client.get(f"{reverse('customers:list')}?{q}")
    assert customer.name in listing.content.decode()
    assert client.get(f"{reverse('jobs:bulk')}?{q}").status_code == 200
    assert client.get(f"{reverse('imports:export')}?{q}").status_code == 200
