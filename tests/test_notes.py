"""Notes: routing to departments, private notes, pinning, and the event log."""

import pytest

from patron.core.actor import Actor
from patron.core.errors import ConflictError, PermissionDenied, ValidationError
from patron.events.models import Event
from patron.notes import services
from patron.notes.models import Note
from tests.factories import GroupFactory, NoteFactory, UserFactory
from tests.work_fixtures import *  # noqa: F403 (the shared fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("work_roles")]

SECRET = "Customer owes 4,200 to the old supplier"


def private_note(actor, customer, department, body=SECRET):
    return services.note_create(
        actor=actor,
        customer=customer,
        data={"department": department, "body": body, "private_to_department": True},
    )


def test_note_for_a_department_is_logged_on_the_customer(bella_actor, customer, billing):
    """Adding a note writes one event on the customer with the text and the department."""
    note = services.note_create(
        actor=bella_actor,
        customer=customer,
        data={"department": billing, "body": "Call back\non Monday"},
    )
    assert note.author_label == "bella"
    assert note.body == "Call back\non Monday"
    event = Event.objects.get(customer=customer)
    assert event.action == "created"
    assert event.message == "Added a note for Billing"
    assert event.object_repr == f"Note #{note.pk}"
    assert event.changes == {
        "department": [None, "Billing"],
        "body": [None, "Call back\non Monday"],
    }


def test_private_note_text_never_reaches_the_event_log(bella_actor, customer, billing):
    """A private note's event says who and for which department, never what it says."""
    note = private_note(bella_actor, customer, billing)
    services.note_update(actor=bella_actor, note=note, data={"body": SECRET + " (paid)"})
    services.note_pin(actor=bella_actor, note=note)
    events = list(Event.objects.filter(customer=customer).order_by("id"))
    assert [e.message for e in events] == [
        "Added a private note for Billing",
        "Changed a private note for Billing",
        "Pinned a private note for Billing",
    ]
    assert events[0].changes == {
        "department": [None, "Billing"],
        "private_to_department": [None, True],
    }
    assert events[1].changes == {"body": ["(private)", "(private, changed)"]}
    for event in events:
        assert "4,200" not in f"{event.message} {event.object_repr} {event.changes} {event.reason}"


def test_private_note_from_a_non_member_is_refused(customer, billing, staff):
    """Only members of the department write notes private to it; nothing is saved."""
    with pytest.raises(ValidationError) as exc:
        private_note(Actor(user=staff), customer, billing)
    assert exc.value.message_dict == {
        "private_to_department": ["Only members of Billing can write a note private to it."]
    }
    assert Note.objects.count() == 0
    assert Event.objects.filter(customer=customer).count() == 0


def test_owner_may_write_a_private_note_without_being_a_member(customer, billing, owner):
    note = private_note(Actor(user=owner), customer, billing)
    assert note.private_to_department is True
    assert list(Note.objects.restrict(owner)) == [note]


def test_private_note_needs_a_department(bella_actor, customer):
    with pytest.raises(ValidationError) as exc:
        private_note(bella_actor, customer, None)
    assert exc.value.message_dict == {
        "department": ["Choose the department this private note is for."]
    }
    assert Note.objects.count() == 0


def test_private_note_cannot_be_addressed_to_someone_outside_the_department(
    bella_actor, customer, billing
):
    """They could never read it, so Patron says so instead of saving it."""
    outsider = UserFactory(username="otto", first_name="Otto", last_name="Out")
    with pytest.raises(ValidationError) as exc:
        services.note_create(
            actor=bella_actor,
            customer=customer,
            data={
                "department": billing,
                "addressed_to": outsider,
                "body": SECRET,
                "private_to_department": True,
            },
        )
    assert exc.value.message_dict == {
        "addressed_to": [
            "Otto Out is not a member of Billing, so they could not read this private note."
        ]
    }
    assert Note.objects.count() == 0


def test_empty_note_is_refused(bella_actor, customer, billing):
    with pytest.raises(ValidationError) as exc:
        services.note_create(
            actor=bella_actor, customer=customer, data={"department": billing, "body": "  "}
        )
    assert exc.value.message_dict == {"body": ["Write the note."]}


def test_note_to_a_department_the_user_cannot_see_is_refused(
    no_departments_user, customer, billing
):
    """Users address only departments they may see; the message does not confirm it exists."""
    with pytest.raises(ValidationError) as exc:
        services.note_create(
            actor=Actor(user=no_departments_user),
            customer=customer,
            data={"department": billing, "body": "Hello"},
        )
    assert exc.value.message_dict == {"department": ["Choose one of the departments you can see."]}
    assert Note.objects.count() == 0


def test_readonly_cannot_add_notes(readonly, customer, billing):
    with pytest.raises(PermissionDenied):
        services.note_create(
            actor=Actor(user=readonly),
            customer=customer,
            data={"department": billing, "body": "Hello"},
        )
    assert Note.objects.count() == 0
    assert Event.objects.count() == 0


def test_private_notes_are_visible_only_to_members_and_owners(
    bella, bella_actor, customer, billing, staff, admin_user, owner, readonly
):
    """Non-members (Staff, Administrators, Read-only) get no row; members and Owners do."""
    note = private_note(bella_actor, customer, billing)
    public = services.note_create(
        actor=bella_actor, customer=customer, data={"department": billing, "body": "Public"}
    )
    assert set(Note.objects.restrict(bella)) == {note, public}
    assert set(Note.objects.restrict(owner)) == {note, public}
    assert list(Note.objects.restrict(staff)) == [public]
    assert list(Note.objects.restrict(admin_user)) == [public]
    assert list(Note.objects.restrict(readonly)) == [public]


def test_public_notes_are_not_duplicated_by_department_membership(customer, billing, staff):
    """A department with many members still gives each note once."""
    billing.members.add(staff, UserFactory(), UserFactory())
    note = NoteFactory(customer=customer, department=billing)
    assert list(Note.objects.restrict(staff)) == [note]


def test_notes_follow_the_customer_group_restriction(bella, customer, billing):
    """A user restricted to customer groups sees notes of those customers only."""
    group = GroupFactory()
    bella.restricted_groups.add(group)
    NoteFactory(customer=customer, department=billing)
    assert list(Note.objects.restrict(bella)) == []


def test_pinned_notes_come_first(bella_actor, customer, billing):
    first = services.note_create(
        actor=bella_actor, customer=customer, data={"department": billing, "body": "First"}
    )
    second = services.note_create(
        actor=bella_actor, customer=customer, data={"department": billing, "body": "Second"}
    )
    services.note_pin(actor=bella_actor, note=first)
    assert list(Note.objects.filter(customer=customer).for_overview()) == [first, second]
    services.note_pin(actor=bella_actor, note=first, pinned=False)
    assert list(Note.objects.filter(customer=customer).for_overview()) == [second, first]
    assert list(
        Event.objects.filter(action__in=["pinned", "unpinned"]).values_list("message", flat=True)
    ) == ["Unpinned a note for Billing", "Pinned a note for Billing"]


def test_pinning_twice_changes_nothing(bella_actor, customer, billing):
    note = services.note_create(
        actor=bella_actor, customer=customer, data={"department": billing, "body": "x"}
    )
    services.note_pin(actor=bella_actor, note=note)
    services.note_pin(actor=bella_actor, note=note)
    note.refresh_from_db()
    assert note.version == 2
    assert Event.objects.filter(action="pinned").count() == 1


def test_stale_note_update_is_refused(bella_actor, customer, billing):
    note = services.note_create(
        actor=bella_actor, customer=customer, data={"department": billing, "body": "v1"}
    )
    services.note_update(actor=bella_actor, note=note, data={"body": "v2"}, expected_version=1)
    with pytest.raises(ConflictError):
        services.note_update(actor=bella_actor, note=note, data={"body": "v3"}, expected_version=1)
    note.refresh_from_db()
    assert note.body == "v2"


def test_making_a_note_private_moves_it_out_of_sight_of_non_members(
    bella_actor, customer, billing, staff
):
    note = services.note_create(
        actor=bella_actor, customer=customer, data={"department": billing, "body": SECRET}
    )
    services.note_update(actor=bella_actor, note=note, data={"private_to_department": True})
    assert list(Note.objects.restrict(staff)) == []
    event = Event.objects.filter(action="updated").get()
    assert event.message == "Changed a private note for Billing"
    assert event.changes == {"private_to_department": [False, True]}


def test_moving_a_private_note_to_another_department_needs_membership_there(
    bella_actor, customer, billing, support
):
    note = private_note(bella_actor, customer, billing)
    with pytest.raises(ValidationError) as exc:
        services.note_update(actor=bella_actor, note=note, data={"department": support})
    assert exc.value.message_dict == {
        "private_to_department": [
            "Only members of Technical support can write a note private to it."
        ]
    }
    note.refresh_from_db()
    assert note.department == billing


def test_text_logged_before_a_note_went_private_is_hidden_from_non_members(
    bella_actor, customer, billing, staff, owner
):
    """A note written in the open and made private later: the events holding its
    old text disappear for everyone outside Billing, in every event list."""
    note = services.note_create(
        actor=bella_actor, customer=customer, data={"department": billing, "body": SECRET}
    )
    services.note_update(actor=bella_actor, note=note, data={"private_to_department": True})

    def logged(user):
        events = Event.objects.restrict(user).filter(customer=customer)
        return {e.message: e.changes for e in events}

    outsider = logged(staff)
    assert list(outsider) == ["Changed a private note for Billing"]
    assert SECRET not in str(outsider)
    for reader in (bella_actor.user, owner):
        assert logged(reader)[f"Added a note for {billing}"]["body"] == [None, SECRET]
