"""The small things of issue #17 item 7 ("Details"), through the Django test client."""

import re

import pytest
from django.urls import reverse

from patron.core.contrast import contrast_ratio, text_colour
from patron.core.tables import badge
from patron.ops.demo.lists import TAGS
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


# Tag badges: WCAG AA contrast


SAMPLE_COLOURS = [colour for _, colour, _ in TAGS] + [
    "#000000",
    "#ffffff",
    "#ffc107",
    "#0dcaf0",
    "#808080",
    "#777777",
    "#ff0000",
    "#00ff00",
    "#0000ff",
    "#ffff00",
    "#f0f",
    "#767676",
    "#959595",
]


@pytest.mark.parametrize("colour", SAMPLE_COLOURS)
def test_badge_text_colour_meets_wcag_aa(colour):
    assert contrast_ratio(colour, text_colour(colour)) >= 4.5


def test_every_grey_and_hue_step_meets_wcag_aa():
    for step in range(0, 256, 5):
        for colour in (f"#{step:02x}{step:02x}{step:02x}", f"#{step:02x}8000", f"#00{step:02x}ff"):
            assert contrast_ratio(colour, text_colour(colour)) >= 4.5, colour


def test_yellow_tag_gets_black_text_and_dark_blue_white():
    assert text_colour("#d4a017") == "#000000"
    assert text_colour("#842029") == "#ffffff"
    assert "color: #000000" in badge("VIP", "#d4a017")


def test_tag_badges_on_the_overview_carry_a_readable_text_colour(owner_client):
    customer = CustomerFactory()
    customer.tags.add(
        TagFactory(name="VIP", colour="#d4a017"), TagFactory(name="Dark", colour="#842029")
    )
    html = owner_client.get(customer.get_absolute_url()).content.decode()
    assert re.search(r'--badge-colour: #d4a017; color: #000000"[^>]*>VIP', html)
    assert re.search(r'--badge-colour: #842029; color: #ffffff"[^>]*>Dark', html)
    listing = owner_client.get(reverse("customers:list")).content.decode()
    assert "--badge-colour: #d4a017; color: #000000" in listing


# The skip link


def test_skip_link_is_the_first_link_and_points_at_main(owner_client):
    html = owner_client.get(reverse("customers:list")).content.decode()
    body = html[html.index("<body") :]
    first_link = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body).group(0)
    assert 'href="#main"' in first_link
    assert "Skip to content" in body[: body.index("</a>")]
    assert '<main class="patron-content" id="main"' in html


# Sortable headers say how they sort


def _aria_sort(html, label):
    """The aria-sort of the column heading whose link text starts with `label`."""
    match = re.search(r'<th scope="col"( aria-sort="(\w+)")?>(<a[^>]*>)?' + re.escape(label), html)
    assert match, label
    return match.group(2)


def test_customer_list_headers_carry_aria_sort(owner_client):
    CustomerFactory()
    url = reverse("customers:list")
    html = owner_client.get(url).content.decode()
    assert _aria_sort(html, "Name") == "none"
    assert _aria_sort(html, "Groups") is None  # not sortable
    html = owner_client.get(url, {"sort": "name"}).content.decode()
    assert _aria_sort(html, "Name") == "ascending"
    html = owner_client.get(url, {"sort": "-name"}).content.decode()
    assert _aria_sort(html, "Name") == "descending"


def test_other_lists_headers_carry_aria_sort(owner_client):
    TagFactory(name="VIP")
    url = reverse("tags:list")
    html = owner_client.get(url).content.decode()
    assert _aria_sort(html, "Name") == "none"
    html = owner_client.get(url, {"sort": "-name"}).content.decode()
    assert _aria_sort(html, "Name") == "descending"


# Each form error shown once


def test_status_card_error_shows_once_under_its_field(owner_client):
    customer = CustomerFactory()
    response = owner_client.post(
        reverse("customers:status_change", args=[customer.pk]),
        {"status": "", "reason": "", "effective_date": ""},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert 'data-field-error="status"' in html
    message = re.search(r'data-field-error="status">([^<]+)<', html).group(1)
    assert html.count(message) == 1, html
    assert 'data-testid="card-error"' not in html


# The export page


def test_export_page_says_what_is_exported_with_names(owner_client):
    vip = TagFactory(name="VIP")
    for name in ("Ann", "Bob"):
        CustomerFactory(name=name).tags.add(vip)
    CustomerFactory(name="Cat")
    html = owner_client.get(
        reverse("imports:export"), {"tag": [vip.pk], "q": "Ann or Bob"}
    ).content.decode()
    assert re.search(r"2 customers will be exported", html)
    assert "<li>Tag: VIP</li>" in html
    assert "<li>Query: “Ann or Bob”</li>" in html
    assert f"tag: {vip.pk}" not in html.lower()
    assert "<code>name</code>" in html and "<code>tags</code>" in html
    # the format choice is radio buttons, each with its label
    radios = re.findall(r'<input type="radio"[^>]*>', html)
    assert len(radios) == 2
    assert all('class="form-check-input"' in radio for radio in radios)
    for radio in radios:
        radio_id = re.search(r'id="([^"]+)"', radio).group(1)
        assert f'<label class="form-check-label" for="{radio_id}">' in html


def test_export_of_everything_says_so(owner_client):
    CustomerFactory()
    html = owner_client.get(reverse("imports:export")).content.decode()
    assert "1 customer will be exported: every customer you can see" in html


# Names, not ids


def test_job_page_shows_names_not_ids(owner_client, owner):
    from patron.jobs.models import Job

    vip = TagFactory(name="VIP")
    job = Job.objects.create(
        kind="bulk.tag_add",
        actor_user=owner,
        actor_label=owner.username,
        params={"tag": vip.pk, "target": {"filter": {"tag": [str(vip.pk)]}, "q": "city:Leeds"}},
    )
    export = Job.objects.create(
        kind="imports.export",
        actor_user=owner,
        actor_label=owner.username,
        params={"format": "csv", "filter": f"tag={vip.pk}"},
    )
    html = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert '<span class="text-secondary">tag:</span> VIP<' in html
    assert "Tag: VIP; Query: “city:Leeds”" in html
    assert f"tag: {vip.pk}" not in html and f"tag={vip.pk}" not in html
    html = owner_client.get(reverse("jobs:detail", args=[export.pk])).content.decode()
    assert '<span class="text-secondary">filter:</span> Tag: VIP<' in html
    assert f"tag={vip.pk}" not in html


# The import template


def test_import_page_offers_a_template_with_every_import_column(owner_client, settings, tmp_path):
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from patron.customers.models import Customer
    from patron.imports.columns import column_names
    from patron.imports.models import CustomerImport
    from patron.jobs.services import job_run

    settings.DATA_DIR = tmp_path
    page = owner_client.get(reverse("imports:upload")).content.decode()
    assert f'href="{reverse("imports:template")}"' in page
    response = owner_client.get(reverse("imports:template"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    header = next(csv.reader(io.StringIO(text)))
    assert header[: len(column_names())] == column_names()
    assert "name" in header and "tags" in header and "account_number" in header
    # Filled in, the template imports without a column problem.
    row = dict.fromkeys(header, "")
    row.update(name="Template Filled", account_number="TPL1")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    writer.writerow(row)
    owner_client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile("filled.csv", buffer.getvalue().encode())},
    )
    customer_import = CustomerImport.objects.get()
    job_run(customer_import.check_job_id)
    owner_client.post(reverse("imports:apply", args=[customer_import.pk]))
    customer_import.refresh_from_db()
    job_run(customer_import.apply_job_id)
    assert Customer.objects.filter(account_number="TPL1", name="Template Filled").exists()


# One date format, one phone format

ALLOWED_DATE_FORMATS = {
    "j M Y",  # 6 Dec 2026 (the `day` filter)
    "j M Y H:i",  # 6 Dec 2026 14:05 (the `moment` filter)
    "j M",  # the first day of a range "1 Dec – 31 Dec 2026"
    "M Y",  # a month heading
    "c",  # machine-readable (datetime attributes)
    "Y-m",  # machine-readable (data attributes)
    "Y-m-d",  # the value of a date input
    "j M Y H:i:s",  # a title tooltip with seconds (the event log)
}


def test_templates_use_one_date_format():
    from pathlib import Path

    import patron

    root = Path(patron.__file__).parent
    found = {}
    for template in root.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for fmt in re.findall(r"""\|date:["']([^"']*)["']""", text):
            found.setdefault(fmt, set()).add(str(template.relative_to(root)))
        for line in text.splitlines():
            # a bare date field renders in Django's default format (Dec. 6, 2026, 2:05 p.m.)
            assert not re.search(r"\{\{ *\w+\.(created|modified) *\}\}", line), template
    odd = {fmt: where for fmt, where in found.items() if fmt not in ALLOWED_DATE_FORMATS}
    assert not odd, odd
    ymd = [
        line
        for line in (root / "customers/templates/customers/_groups_card.html")
        .read_text()
        .splitlines()
        if 'date:"Y-m-d"' in line or "date:'Y-m-d'" in line
    ]
    assert all("value=" in line for line in ymd)  # only the date input's value


def test_day_and_moment_filters():
    import datetime

    from django.utils import timezone

    from patron.core.templatetags.patron_core import day, moment

    assert day(datetime.date(2026, 12, 6)) == "6 Dec 2026"
    when = timezone.make_aware(datetime.datetime(2026, 12, 6, 14, 5))
    assert moment(when) == "6 Dec 2026 14:05"
    assert day(None) == "" and moment("") == ""


def test_job_page_shows_the_created_moment_in_the_one_format(owner_client, owner):
    from django.utils import timezone

    from patron.core.templatetags.patron_core import moment
    from patron.jobs.models import Job

    job = Job.objects.create(kind="bulk.tag_add", actor_user=owner, actor_label=owner.username)
    html = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert f'<dd class="col-7">{moment(job.created)}</dd>' in html
    assert timezone.localtime(job.created).strftime("%-d %b %Y %H:%M") in html


# An undone job says so


def _tag_job_then_undo(owner, tag, customers):
    from patron.bulk.bulk_tag import bulk_tag_enqueue
    from patron.bulk.engine import UNDO_KIND
    from patron.core.actor import Actor
    from patron.jobs.models import Job
    from patron.jobs.services import job_run

    job = bulk_tag_enqueue(
        actor=Actor(user=owner), params={"tag": tag.pk, "customers": [c.pk for c in customers]}
    )
    job_run(job.pk)
    return job, Job, UNDO_KIND, job_run


def test_an_undone_job_shows_undone_in_the_list_and_on_its_page(owner_client, owner):
    vip = TagFactory(name="VIP")
    job, Job, UNDO_KIND, job_run = _tag_job_then_undo(owner, vip, [CustomerFactory()])
    listing = owner_client.get(reverse("jobs:list")).content.decode()
    assert 'data-testid="job-undone"' not in listing
    owner_client.post(reverse("jobs:undo", args=[job.pk]))
    undo = Job.objects.get(kind=UNDO_KIND)
    job_run(undo.pk)
    listing = owner_client.get(reverse("jobs:list")).content.decode()
    assert listing.count('data-testid="job-undone"') == 1
    assert f"Succeeded, undone by job #{undo.pk}" in listing
    page = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert 'data-testid="job-undone">Undone</span>' in page
    undo_page = owner_client.get(reverse("jobs:detail", args=[undo.pk])).content.decode()
    assert 'data-testid="job-undone"' not in undo_page


def test_ticket_close_and_job_undo_ask_first(owner_client, owner):
    from tests.factories import TicketFactory

    ticket = TicketFactory(subject="Router drops")
    html = owner_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert re.search(r'action="/[^"]*close/"[^>]*data-confirm="Close ticket #', html)
    assert '<dialog id="patron-confirm"' in html
    vip = TagFactory(name="VIP")
    job, *_ = _tag_job_then_undo(owner, vip, [CustomerFactory()])
    html = owner_client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert f'data-confirm-action="{reverse("jobs:undo", args=[job.pk])}"' in html


def test_list_pages_show_datetimes_in_the_one_format(owner_client, owner):
    from patron.core.templatetags.patron_core import moment
    from patron.jobs.models import Job

    job = Job.objects.create(kind="bulk.tag_add", actor_user=owner, actor_label=owner.username)
    html = owner_client.get(reverse("jobs:list")).content.decode()
    assert f"<td>{moment(job.created)}</td>" in html
    assert "p.m." not in html and "a.m." not in html


def test_select_all_matching_is_offered_when_the_list_has_more_pages(owner_client):
    CustomerFactory()
    html = owner_client.get(reverse("customers:list")).content.decode()
    assert 'data-testid="select-all-matching"' not in html  # one page: the page is all
    for _ in range(50):
        CustomerFactory()
    html = owner_client.get(reverse("customers:list")).content.decode()
    assert re.search(r'data-testid="select-all-matching">Select all 51 matching<', html)
