"""`restrict(who, action)` is the one access path: `who` is a user or an `Actor`.

A system actor (the scheduler, a job started from the command line) sees
every row; an anonymous or inactive user none; a person what their role and
restriction allow, and always the rows they own on models that have an owner.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from patron.accounts.models import ApiToken
from patron.core.actor import Actor
from patron.customers import services
from patron.customers.models import Customer
from patron.groups.models import GroupSet
from patron.jobs.models import Job
from tests.factories import CustomerFactory, GroupFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions(owner, staff):
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north, south = (
        GroupFactory(group_set=region, name="North"),
        GroupFactory(group_set=region, name="South"),
    )
    inside, outside = CustomerFactory(name="Inside"), CustomerFactory(name="Outside")
    actor = Actor(user=owner)
    services.customer_groups_set(actor=actor, customer=inside, groups=[north])
    services.customer_groups_set(actor=actor, customer=outside, groups=[south])
    staff.restricted_groups.set([north])
    return inside, outside


def test_a_system_actor_sees_every_row(regions):
    assert Customer.objects.restrict(Actor.system_actor("scheduler")).count() == 2


def test_an_actor_for_a_person_sees_what_the_person_sees(regions, staff, owner):
    inside, _ = regions
    fresh = type(staff).objects.get(pk=staff.pk)
    assert list(Customer.objects.restrict(Actor(user=fresh))) == [inside]
    assert list(Customer.objects.restrict(fresh)) == [inside]
    assert Customer.objects.restrict(Actor(user=owner)).count() == 2


def test_nobody_and_inactive_people_see_nothing(regions, owner):
    assert not Customer.objects.restrict(None).exists()
    assert not Customer.objects.restrict(AnonymousUser()).exists()
    owner.is_active = False
    owner.save()
    assert not Customer.objects.restrict(Actor(user=owner)).exists()


def test_owned_rows_are_visible_without_the_permission(owner, staff, readonly):
    """Jobs and tokens: one's own rows always, everyone's with the permission."""
    mine = Job.objects.create(kind="x", actor_user=staff)
    Job.objects.create(kind="x", actor_user=readonly)
    assert list(Job.objects.restrict(staff)) == [mine]
    assert Job.objects.restrict(owner).count() == 2
    ApiToken.objects.create(user=staff, name="mine", prefix="aaaa", key_hash="1")
    ApiToken.objects.create(user=readonly, name="theirs", prefix="bbbb", key_hash="2")
    assert [t.name for t in ApiToken.objects.restrict(Actor(user=staff))] == ["mine"]
    assert ApiToken.objects.restrict(owner).count() == 2
    stranger = UserFactory(username="nobody-role")
    assert not Job.objects.restrict(stranger).exists()


def test_a_serializer_without_a_request_offers_no_rows(regions):
    """Fail closed: a related field with no request in its context accepts nothing."""
    from patron.customers.api import CustomerSerializer
    from patron.statuses.models import Status

    status = Status.objects.first()
    serializer = CustomerSerializer(data={"name": "Nobody's", "status": status.pk})
    assert not serializer.fields["status"].queryset.exists()
    assert not serializer.is_valid()
    assert "status" in serializer.errors


def test_a_serializer_offers_what_its_request_user_may_see(regions, staff, rf):
    """The referrer field of a restricted user offers only their own customers."""
    from patron.customers.api import CustomerSerializer

    inside, outside = regions
    request = rf.post("/api/customers/")
    request.user = type(staff).objects.get(pk=staff.pk)
    serializer = CustomerSerializer(context={"request": request})
    assert list(serializer.fields["referred_by"].queryset) == [inside]


def test_a_write_may_not_move_a_row_out_of_the_writers_reach(staff, readonly):
    """NetBox's rule in object_update: the row must still be one the actor may change."""
    from patron.core.errors import PermissionDenied
    from patron.core.services import object_update
    from patron.events.models import Event
    from patron.segments.models import Segment

    segment = Segment.objects.create(name="Mine", query="tag:vip", owner=staff)
    events = Event.objects.count()
    with pytest.raises(PermissionDenied, match="outside what you may change"):
        object_update(actor=Actor(user=staff), instance=segment, data={"owner": readonly})
    segment.refresh_from_db()
    assert segment.owner == staff and segment.version == 1
    assert Event.objects.count() == events
    # The same write by the system (a data repair from the command line) is allowed.
    object_update(actor=Actor.system_actor("repair"), instance=segment, data={"owner": readonly})
    segment.refresh_from_db()
    assert segment.owner == readonly
