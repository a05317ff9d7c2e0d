"""The layout every signed-in page shares: the menu button for phones, the
header, and 403/404 pages drawn inside it."""

import re

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def page(client, user, url):
    client.force_login(user)
    return client.get(url)


def test_menu_button_controls_the_sidebar(client, staff):
    """An accessible button (aria-expanded, aria-controls) shows the sidebar on phones;
    its script is Patron's own static file, no CDN."""
    html = page(client, staff, reverse("customers:list")).content.decode()
    button = re.search(r"<button[^>]*id=\"patron-menu-button\"[^>]*>", html, re.S).group(0)
    assert 'aria-expanded="false"' in button
    assert 'aria-controls="patron-sidebar"' in button
    assert '<nav id="patron-sidebar"' in html
    assert re.search(r'<script src="/static/patron/patron\.[0-9a-f.]*js"', html)
    assert "cdn" not in html.lower()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html


def test_list_table_scrolls_inside_its_card(client, staff):
    CustomerFactory()
    html = page(client, staff, reverse("customers:list")).content.decode()
    assert re.search(r'<div class="table-responsive">\s*<table', html)


def test_404_inside_the_layout_for_a_signed_in_user(client, staff):
    response = page(client, staff, "/customers/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'id="patron-sidebar"' in html and 'id="patron-search"' in html
    assert "We could not find that page" in html
    assert 'data-testid="current-user">' + staff.username in html


def test_403_inside_the_layout_with_the_reason(client, readonly):
    response = page(client, readonly, reverse("customers:add"))
    assert response.status_code == 403
    html = response.content.decode()
    assert 'id="patron-sidebar"' in html
    assert "Your role does not allow you to add customers." in html


def test_404_for_a_visitor_has_no_sidebar(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "patron-sidebar" not in html
    assert "Sign in to Patron" in html
