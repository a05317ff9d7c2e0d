"""A `?next=` leads back into Patron only: never another site or a `javascript:` link.

Every page that reads `next` (the form and delete pages, the task editor, the
ticket and bulk tag actions, signing in) shows it as the Cancel link and follows
it after a POST only when it stays on this host; anything else falls back to the
page's own default.
"""

from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from patron.core.views import ObjectDeleteView, ObjectEditView
from patron.tags.models import Tag
from tests.factories import PASSWORD, TagFactory, TaskFactory, TicketFactory

pytestmark = pytest.mark.django_db

BAD_NEXT = [
    "javascript:alert(1)",
    " javascript:alert(1)",
    "//evil.example/",
    "https://elsewhere.example/customers/",
    "http://testserver.evil.example/",
    "\\\\evil.example",
    "/\\evil.example",
]
GOOD_NEXT = "/customers/?q=tag%3Avip"


def with_next(url: str, target: str) -> str:
    return f"{url}?next={quote(target, safe='')}"


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


# --- the Cancel link ----------------------------------------------------------------------


def cancel_pages():
    """(name, url maker, default Cancel link) of each kind of page that reads `next`."""
    return [
        ("tag add", lambda: reverse("tags:add"), lambda: reverse("tags:list")),
        (
            "tag edit",
            lambda: reverse("tags:edit", args=[TagFactory(name="vip").pk]),
            lambda: reverse("tags:list"),
        ),
        (
            "tag delete",
            lambda: reverse("tags:delete", args=[TagFactory(name="vip").pk]),
            lambda: Tag.objects.get(name="vip").get_absolute_url(),
        ),
        (
            "task edit",
            lambda: reverse("tasks:edit", args=[TaskFactory().pk]),
            lambda: TaskFactory._meta.model.objects.get().customer.get_absolute_url(),
        ),
    ]


@pytest.mark.parametrize("bad", BAD_NEXT)
@pytest.mark.parametrize("page", cancel_pages(), ids=lambda p: p[0])
def test_an_unsafe_next_is_not_the_cancel_link(owner_client, page, bad):
    """The page renders with its own Cancel link; the unsafe value is nowhere in it."""
    _, url, default = page
    response = owner_client.get(with_next(url(), bad))
    assert response.status_code == 200
    assert response.context["cancel_url"] == default()
    assert "evil.example" not in response.content.decode()
    assert "javascript:" not in response.content.decode()
    assert "elsewhere.example" not in response.content.decode()


@pytest.mark.parametrize("page", cancel_pages(), ids=lambda p: p[0])
def test_a_relative_next_is_the_cancel_link(owner_client, page):
    """A path on this Patron is kept as the Cancel link."""
    _, url, _ = page
    response = owner_client.get(with_next(url(), GOOD_NEXT))
    assert response.context["cancel_url"] == GOOD_NEXT
    assert f'href="{GOOD_NEXT.replace("&", "&amp;")}"' in response.content.decode()


def _no_argument_pages(resolver=None, prefix=""):
    """Every add page (an ObjectEditView or ObjectDeleteView without a pk) in the URLconf."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _no_argument_pages(entry, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            view = getattr(entry.callback, "view_class", None)
            editor = view and issubclass(view, ObjectEditView | ObjectDeleteView)
            if editor and not entry.pattern.regex.groupindex:
                yield f"{prefix}{entry.name}"


ADD_PAGES = sorted(set(_no_argument_pages()))


def test_the_url_table_has_add_pages():
    assert {"tags:add", "classes:add", "departments:add"} <= set(ADD_PAGES)


@pytest.mark.parametrize("name", ADD_PAGES)
def test_no_add_page_shows_an_unsafe_next(owner_client, name):
    """Every add page in the URLconf ignores `javascript:` and another site as `next`."""
    for bad in ("javascript:alert(1)", "https://elsewhere.example/"):
        response = owner_client.get(with_next(reverse(name), bad))
        assert response.status_code == 200, name
        assert response.context["cancel_url"] != bad
        assert bad not in response.content.decode()


# --- the redirect after a POST ------------------------------------------------------------


def post_actions():
    """(name, url maker, POST data maker, default redirect) of each POST that reads `next`."""

    def tag_edit():
        tag = TagFactory(name="vip")
        return reverse("tags:edit", args=[tag.pk])

    def task_edit():
        task = TaskFactory(title="Call back")
        return reverse("tasks:edit", args=[task.pk])

    def task_data():
        task = TaskFactory._meta.model.objects.get()
        return {
            "title": "Call back",
            "department": task.department_id,
            "version": task.version,
        }

    def ticket_close():
        ticket = TicketFactory(subject="Refund")
        return reverse("tickets:close", args=[ticket.pk])

    return [
        (
            "tag add",
            lambda: reverse("tags:add"),
            lambda: {"name": "gold", "colour": "#ffcc00"},
            lambda: reverse("tags:list"),
        ),
        (
            "tag edit",
            tag_edit,
            lambda: {"name": "vip", "colour": "#ff0000", "version": Tag.objects.get().version},
            lambda: reverse("tags:list"),
        ),
        (
            "tag delete",
            lambda: reverse("tags:delete", args=[TagFactory(name="vip").pk]),
            dict,
            lambda: reverse("tags:list"),
        ),
        (
            "task edit",
            task_edit,
            task_data,
            lambda: TaskFactory._meta.model.objects.get().customer.get_absolute_url(),
        ),
        (
            "ticket close",
            ticket_close,
            dict,
            lambda: TicketFactory._meta.model.objects.get().get_absolute_url(),
        ),
        (
            "bulk tag, refused",
            lambda: reverse("jobs:bulk_tag"),
            lambda: {"action": "add", "query": "city=Leeds"},
            lambda: reverse("customers:list") + "?city=Leeds",
        ),
    ]


def post_action(name):
    return next(p for p in post_actions() if p[0] == name)


ACTION_NAMES = [p[0] for p in post_actions()]


@pytest.mark.parametrize("bad", BAD_NEXT)
@pytest.mark.parametrize("name", ACTION_NAMES)
@pytest.mark.parametrize("where", ["query", "form"])
def test_an_unsafe_next_is_not_followed_after_a_post(owner_client, name, bad, where):
    """The browser goes to the page's own default, not to `next`."""
    _, url, data, default = post_action(name)
    target, body = url(), data()
    if where == "query":
        response = owner_client.post(with_next(target, bad), body)
    else:
        response = owner_client.post(target, {**body, "next": bad})
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == default()


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_a_relative_next_is_followed_after_a_post(owner_client, name):
    """A path on this Patron is where the browser goes once the action is done."""
    _, url, data, _ = post_action(name)
    response = owner_client.post(with_next(url(), GOOD_NEXT), data())
    assert response.status_code == 302
    assert response["Location"] == GOOD_NEXT


def test_a_next_on_this_host_over_https_needs_https(owner_client):
    """On a secure request a plain-HTTP link back to the same host is refused."""
    tag = TagFactory(name="vip")
    url = reverse("tags:delete", args=[tag.pk])
    response = owner_client.get(with_next(url, "http://testserver/customers/"), secure=True)
    assert response.context["cancel_url"] == tag.get_absolute_url()
    response = owner_client.get(with_next(url, "https://testserver/customers/"), secure=True)
    assert response.context["cancel_url"] == "https://testserver/customers/"


# --- signing in ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_NEXT)
def test_signing_in_ignores_an_unsafe_next(client, owner, bad):
    """The login form does not carry the unsafe value and lands on the customer list."""
    url = with_next(reverse("accounts:login"), bad)
    page = client.get(url)
    assert "evil.example" not in page.content.decode()
    assert "javascript:" not in page.content.decode()
    response = client.post(url, {"username": "olivia", "password": PASSWORD, "next": bad})
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:list")


def test_signing_in_follows_a_relative_next(client, owner):
    url = with_next(reverse("accounts:login"), GOOD_NEXT)
    response = client.post(url, {"username": "olivia", "password": PASSWORD, "next": GOOD_NEXT})
    assert response["Location"] == GOOD_NEXT
