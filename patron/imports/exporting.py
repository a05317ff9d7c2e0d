"""Exporting customers to CSV or XLSX: any filtered list, as the actor sees it.

The customers are chosen exactly as the customer list chooses them: its
filter parameters through `CustomerFilterSet`, the `q` box through the
segment language, and a selection as repeated `ids`, always within
`Customer.objects.restrict(user)`. Rows are read a page at a time with
`values_list`, with one query per page for tags, groups and contacts, so an
export of 100,000 customers never builds 100,000 model objects.

The columns are the import columns (docs/import-export.md), so an exported
file can be imported again, plus the creation date and the custom fields.
Text a spreadsheet would run as a formula is defused by `patron.core.spreadsheet`
(a leading quote in CSV, a text cell in XLSX), and the import undoes it.
"""

from __future__ import annotations

import csv
import uuid
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

from django.http import QueryDict

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.spreadsheet import neutralise_row, xlsx_text_cell
from patron.customers.filters import CustomerFilterSet
from patron.customers.models import Contact, Customer, CustomerTag, GroupMembership
from patron.customers.selection import selection_data
from patron.customfields.exports import custom_field_columns, custom_field_export_value
from patron.groups.models import Group
from patron.imports import columns as imports_columns
from patron.imports.columns import (
    CONTACT_PREFIXES,
    CUSTOM_FIELD_PREFIX,
    LIST_SEPARATOR,
    column_names,
)
from patron.imports.storage import storage_dir
from patron.tags.models import Tag

FORMATS = {"csv": "CSV", "xlsx": "Excel (XLSX)"}
PAGE = 2000


def export_queryset(actor: Actor, data: QueryDict):
    """The customers the list would show for `data`, within what the actor may view."""
    from patron.segments.language import SegmentError, apply_segment

    user = actor.user
    base = Customer.objects.restrict(actor, "view")
    rest = data.copy()
    text = rest.pop("q", [""])[-1].strip() if "q" in rest else ""
    raw_ids = rest.pop("ids", []) if "ids" in rest else []
    filterset = CustomerFilterSet(rest, queryset=base, request=SimpleNamespace(user=user))
    if not filterset.is_valid():
        raise ValidationError(
            {
                name if name != "__all__" else "filter": [str(m) for m in messages]
                for name, messages in filterset.errors.items()
            }
        )
    queryset = filterset.qs
    if text:
        try:
            queryset = apply_segment(queryset, text, user, exclude_archived_by_default=False)
        except SegmentError as exc:
            raise ValidationError({"q": exc.message}) from None
    if raw_ids:
        try:
            ids = sorted({int(i) for i in raw_ids})
        except (TypeError, ValueError):
            raise ValidationError({"ids": "Give customer ids as whole numbers."}) from None
        queryset = queryset.filter(pk__in=ids)
    return queryset


def validate_export(actor: Actor, params: dict) -> dict:
    """Check the format and the filter; the parameters in their stored form."""
    file_format = params.get("format", "csv")
    errors = {}
    if file_format not in FORMATS:
        errors["format"] = "Choose “csv” or “xlsx”."
    try:
        data = selection_data(params.get("filter", {}))
        export_queryset(actor, data)
    except ValidationError as exc:
        errors.update(exc.message_dict if hasattr(exc, "error_dict") else {"filter": exc.messages})
        data = QueryDict()
    if errors:
        raise ValidationError(errors)
    return {"format": file_format, "filter": {key: data.getlist(key) for key in sorted(data)}}


# Export column → how its value is read from the customer row (`values()` keys).
CUSTOMER_SOURCES = {
    "account_number": "account_number",
    "external_reference": "external_reference",
    "name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company_name",
    "kind": "kind",
    "status": "status__name",
    "status_since": "status_since",
    "class": "customer_class__name",
    "department": "department__name",
    "street": "service_street",
    "city": "service_city",
    "region": "service_region",
    "postcode": "service_postcode",
    "country": "service_country",
    "latitude": "latitude",
    "longitude": "longitude",
    "billing_street": "billing_street",
    "billing_city": "billing_city",
    "billing_region": "billing_region",
    "billing_postcode": "billing_postcode",
    "billing_country": "billing_country",
    "tax_number": "tax_number",
    "notes": "notes",
    "referred_by": "referred_by__account_number",
    "archived": "archived",
    "created": "created",
}
CONTACT_SOURCES = {"name", "first_name", "last_name", "title", "email", "phone", "mobile", "fax"}


def export_header() -> tuple[list[str], list[str]]:
    """(column names, custom field keys): every column an import accepts."""
    custom = [key for key, _label in custom_field_columns()]
    return [*column_names(), *(f"{CUSTOM_FIELD_PREFIX}{k}" for k in custom)], custom


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "hour"):  # the joining date
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value) if not isinstance(value, str) else value


def _related(ids: list[int], tag_names: dict, group_names: dict, contact_fields: list[str]):
    """Tags, groups and the first contacts of a page of customers: three queries."""
    tags, groups, contacts = defaultdict(list), defaultdict(list), defaultdict(list)
    for customer_id, tag_id in CustomerTag.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "tag_id"
    ):
        tags[customer_id].append(tag_names.get(tag_id, ""))
    for customer_id, group_id in GroupMembership.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "group_id"
    ):
        groups[customer_id].append(group_names.get(group_id, ""))
    for customer_id, *values in (
        Contact.objects.filter(customer_id__in=ids)
        .order_by("customer_id", "-is_primary", "name", "id")
        .values_list("customer_id", *contact_fields)
    ):
        if len(contacts[customer_id]) < len(CONTACT_PREFIXES):
            contacts[customer_id].append([_cell(v) for v in values])
    return tags, groups, contacts


def export_rows(queryset, custom_keys: list[str], progress=None):
    """Each customer as a list of cell values, in export-column order, a page at a time."""
    customer_columns = [c.name for c in imports_columns.customer_columns()]
    lists = {"tags", "groups"}
    sources = [CUSTOMER_SOURCES[c] for c in customer_columns if c not in lists]
    tags_at = customer_columns.index("tags")
    contact_fields = [f for f, _, _ in imports_columns.contact_fields()]
    values = queryset.order_by("pk").values_list("pk", "created", "custom_fields", *sources)
    last = 0
    done = 0
    blank_contact = [""] * len(contact_fields)
    separator = f"{LIST_SEPARATOR} "
    # Names are looked up here rather than joined, which keeps the per-page queries on
    # their (customer, …) indexes.
    tag_names = dict(Tag.objects.values_list("pk", "name"))
    group_names = dict(Group.objects.values_list("pk", "name"))
    while True:
        page = list(values.filter(pk__gt=last)[:PAGE])
        if not page:
            return
        ids = [row[0] for row in page]
        tags, groups, contacts = _related(ids, tag_names, group_names, contact_fields)
        for row in page:
            pk = row[0]
            cells = [_cell(v) for v in row[3:]]
            cells[tags_at:tags_at] = [
                separator.join(sorted(tags.get(pk, []))),
                separator.join(sorted(groups.get(pk, []))),
            ]
            people = contacts.get(pk, [])
            for index in range(len(CONTACT_PREFIXES)):
                cells.extend(people[index] if index < len(people) else blank_contact)
            cells.append(row[1].date().isoformat())
            holder = SimpleNamespace(custom_fields=row[2])
            cells.extend(custom_field_export_value(holder, key) for key in custom_keys)
            yield ["" if c is None else c for c in cells]
        last = ids[-1]
        done += len(page)
        if progress is not None:
            progress(done)


def _xlsx_cell(sheet, value):
    return xlsx_text_cell(sheet, str(value) if isinstance(value, list | dict) else value)


def write_export(queryset, file_format: str, target: Path, progress=None) -> int:
    """Write the customers to `target`; the number of rows written."""
    header, custom_keys = export_header()
    count = 0
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Customers")
        sheet.append(header)
        for cells in export_rows(queryset, custom_keys, progress):
            sheet.append([_xlsx_cell(sheet, c) for c in cells])
            count += 1
        workbook.save(target)
        return count
    # UTF-8 with a BOM, so spreadsheet programs open accents and symbols correctly.
    with open(target, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(neutralise_row(header))
        for cells in export_rows(queryset, custom_keys, progress):
            # Formula-like text gets a leading quote (patron.core.spreadsheet).
            writer.writerow(neutralise_row(cells))
            count += 1
    return count


def export_file_name(job_pk: int, file_format: str) -> str:
    return f"job-{job_pk}-{uuid.uuid4().hex[:12]}.{file_format}"


def export_path(name: str) -> Path:
    return storage_dir("exports") / Path(name).name
