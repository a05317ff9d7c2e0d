"""An invoice or credit note as a PDF: `invoice_pdf(invoice) -> bytes`.

The template is `billing/invoice_pdf.html`, drawn by `patron.core.pdf.render_pdf`
(WeasyPrint; `PdfUnavailable` where its system libraries are missing). Amounts
are formatted here with `format_money`, so the PDF reads exactly like the pages.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from patron.billing.models import Invoice
from patron.core.money import format_money
from patron.core.pdf import render_pdf

TEMPLATE = "billing/invoice_pdf.html"


def seller_name() -> str:
    """Who issues the invoices: `PATRON_ORGANISATION_NAME` when the installation sets it."""
    return str(getattr(settings, "PATRON_ORGANISATION_NAME", "") or "Patron")


def _day(value) -> str:
    return f"{value.day} {value:%b %Y}"


def _period(start, end) -> str:
    if start and end and start != end:
        return f"{_day(start)} – {_day(end)}"
    if start or end:
        return _day(start or end)
    return ""


def _quantity(value) -> str:
    value = Decimal(value)
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")
    return text.rstrip(".") or "0"


def _rate(value) -> str:
    return f"{_quantity(value)} %"


def billing_address(customer) -> list[str]:
    """The lines of the address invoices go to (the service address when they are the same)."""
    from patron.customers.countries import country_name

    prefix = "service" if customer.billing_same_as_service else "billing"
    street = getattr(customer, f"{prefix}_street", "")
    city = getattr(customer, f"{prefix}_city", "")
    postcode = getattr(customer, f"{prefix}_postcode", "")
    region = getattr(customer, f"{prefix}_region", "")
    country = getattr(customer, f"{prefix}_country", "")
    lines = [line.strip() for line in str(street or "").splitlines()]
    lines += [" ".join(filter(None, [city, region])).strip(), postcode]
    if country:
        lines.append(country_name(country))
    return [line for line in lines if line]


def invoice_context(invoice: Invoice) -> dict:
    customer = invoice.customer
    lines = [
        {
            "description": line.description,
            "period": _period(line.period_start, line.period_end),
            "quantity": _quantity(line.quantity),
            "unit_price": format_money(line.unit_price),
            "net": format_money(line.net),
            "tax_rate": _rate(line.tax_rate),
            "tax": format_money(line.tax),
            "gross": format_money(line.gross),
        }
        for line in invoice.lines.order_by("id")
    ]
    corrects = invoice.corrects if invoice.corrects_id else None
    return {
        "invoice": invoice,
        "title": "Credit note" if invoice.is_credit_note else "Invoice",
        "seller": seller_name(),
        "customer": customer,
        "address": billing_address(customer),
        "period": _period(invoice.period_start, invoice.period_end),
        "lines": lines,
        "net": format_money(invoice.net),
        "tax": format_money(invoice.tax),
        "gross": format_money(invoice.gross),
        "amount_paid": format_money(invoice.amount_paid) if invoice.amount_paid else "",
        "outstanding": format_money(invoice.outstanding),
        "corrects": corrects,
    }


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice (or credit note) as PDF bytes; raises `PdfUnavailable` when PDFs
    cannot be made on this machine."""
    return render_pdf(TEMPLATE, invoice_context(invoice))
