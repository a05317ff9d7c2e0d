"""Tags: case-insensitive names, merge and delete logged on each customer."""

import pytest

from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.models import CustomerTag
from patron.customers.services import customer_tags_set
from patron.events.models import Event
from patron.tags.models import Tag
from patron.tags.services import tag_create, tag_delete, tag_merge
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_duplicate_name_in_another_case_is_refused(actor):
    tag_create(actor=actor, data={"name": "VIP"})
    with pytest.raises(ValidationError) as exc:
        tag_create(actor=actor, data={"name": "vip"})
    assert exc.value.message_dict == {"name": ["A tag named “VIP” already exists."]}
    assert Tag.objects.count() == 1


def test_staff_cannot_create_tags(staff):
    from patron.core.actor import Actor

    with pytest.raises(PermissionDenied):
        tag_create(actor=Actor(user=staff), data={"name": "VIP"})
    assert not Tag.objects.exists()


def test_merge_moves_customers_and_logs_each(actor):
    a, b = TagFactory(name="Gold"), TagFactory(name="VIP")
    c1, c2 = CustomerFactory(), CustomerFactory()
    customer_tags_set(actor=actor, customer=c1, tags=[a])
    customer_tags_set(actor=actor, customer=c2, tags=[a, b])
    tag_merge(actor=actor, source=a, target=b)
    assert not Tag.objects.filter(pk=a.pk).exists()
    assert set(CustomerTag.objects.values_list("customer_id", "tag_id")) == {
        (c1.pk, b.pk),
        (c2.pk, b.pk),
    }
    merged = Event.objects.filter(customer=c1, message__contains="merged into")
    assert merged.count() == 1


def test_delete_removes_links_and_logs_on_each_customer(actor):
    tag = TagFactory(name="Churn risk")
    customer = CustomerFactory()
    customer_tags_set(actor=actor, customer=customer, tags=[tag])
    tag_delete(actor=actor, tag=tag)
    assert not CustomerTag.objects.exists()
    event = Event.objects.filter(customer=customer).first()
    assert event.changes == {"tags": [["Churn risk"], []]}


def test_edit_page_links_to_merge_for_those_who_may_delete(client, admin_user, staff):
    """The merge page is reached from the tag's edit page; Staff see neither."""
    tag = TagFactory(name="VIP")
    client.force_login(admin_user)
    page = client.get(f"/config/tags/{tag.pk}/").content.decode()
    assert f'href="/config/tags/{tag.pk}/merge/"' in page
    assert "Merge into another tag…" in page
    client.force_login(staff)
    assert client.get(f"/config/tags/{tag.pk}/").status_code == 403


def test_merge_page_asks_for_the_tag_to_keep(client, admin_user):
    source = TagFactory(name="Fibre optic")
    TagFactory(name="Fibre")
    client.force_login(admin_user)
    form = client.get(f"/config/tags/{source.pk}/merge/").context["form"]
    assert [label for _, label in form.fields["target"].choices] == [
        "Choose the tag to keep…",
        "Fibre",
    ]


def test_list_search_matches_name_or_description(client, admin_user, api):
    TagFactory(name="VIP", description="High-value account")
    TagFactory(name="Fibre", description="Full-fibre line")
    TagFactory(name="Paperless")
    client.force_login(admin_user)
    response = client.get("/config/tags/", {"q": "fibre"})
    assert [obj.name for obj, _ in response.context["rows"]] == ["Fibre"]
    response = client.get("/config/tags/", {"q": "high-value"})
    assert [obj.name for obj, _ in response.context["rows"]] == ["VIP"]
    names = [t["name"] for t in api["staff"].get("/api/tags/?q=VALUE").json()["results"]]
    assert names == ["VIP"]
