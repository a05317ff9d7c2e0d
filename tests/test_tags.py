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
