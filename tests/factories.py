"""factory-boy factories. They write rows directly (fast set-up); tests of
behaviour call the service functions."""

import factory
from django.utils import timezone

from patron.accounts.models import Role, User
from patron.classes.models import CustomerClass
from patron.customers.models import Contact, Customer
from patron.departments.models import Department
from patron.groups.models import Group, GroupSet
from patron.statuses.models import Status
from patron.tags.models import Tag

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)
    role = factory.LazyFunction(lambda: Role.objects.get(name=Role.STAFF))

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def user_with_role(role_name: str, **kwargs) -> User:
    return UserFactory(role=Role.objects.get(name=role_name), **kwargs)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"Tag {n}")


class GroupSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupSet

    name = factory.Sequence(lambda n: f"Set {n}")
    single_choice = True


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    group_set = factory.SubFactory(GroupSetFactory)
    name = factory.Sequence(lambda n: f"Group {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        group = super()._create(model_class, *args, **kwargs)
        parent_path = group.parent.path if group.parent_id else "/"
        group.path = f"{parent_path}{group.pk}/"
        group.depth = group.path.count("/") - 2
        group.save(update_fields=["path", "depth"])
        return group


class StatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Status

    name = factory.Sequence(lambda n: f"Status {n}")
    availability = Status.Availability.STANDARD


class CustomerClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerClass

    name = factory.Sequence(lambda n: f"Class {n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")


def active_status() -> Status:
    status = Status.objects.filter(name="Active").first()
    return status or StatusFactory(name="Active", availability=Status.Availability.HEADLINE)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    account_number = factory.Sequence(lambda n: f"T{n:06d}")
    name = factory.Faker("name", locale="en_GB")
    status = factory.LazyFunction(active_status)
    status_since = factory.LazyFunction(timezone.localdate)
    service_city = "Leeds"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name", locale="en_GB")
    email = factory.LazyAttribute(lambda c: f"{c.name.split()[0].lower()}@example.com")
    phone = "+441134960000"


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "notes.Note"

    customer = factory.SubFactory(CustomerFactory)
    department = factory.SubFactory(DepartmentFactory)
    body = factory.Sequence(lambda n: f"Note text {n}")
    author_label = "tests"


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tasks.Task"

    customer = factory.SubFactory(CustomerFactory)
    department = factory.SubFactory(DepartmentFactory)
    title = factory.Sequence(lambda n: f"Task {n}")


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tickets.Ticket"

    customer = factory.SubFactory(CustomerFactory)
    department = factory.SubFactory(DepartmentFactory)
    subject = factory.Sequence(lambda n: f"Ticket {n}")
    opened_by_label = "tests"
