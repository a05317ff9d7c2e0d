"""A few of the demo provider's customers live abroad: addresses, regions and phones of
their own country, so the overview, search and export show what Patron does with them.

Deterministic and drawing nothing from the demo's random generator: the customers at
fixed places in the list move, and everything else stays as the seed made it.
"""

from __future__ import annotations

from patron.customers.services.contacts import contact_update
from patron.customers.services.profile import customer_update

# country, city, postcode, street, region, landline, mobile
ABROAD = [
    (
        "DE",
        "München",
        "80331",
        "Sendlinger Straße 7",
        "DE-BY",
        "+49 89 2351 4000",
        "+49 151 2345 6789",
    ),
    ("US", "Seattle", "98101", "1201 3rd Avenue", "US-WA", "+1 206 555 0142", "+1 206 555 0187"),
    (
        "FR",
        "Lyon",
        "69002",
        "12 Rue de la République",
        "",
        "+33 4 72 10 30 30",
        "+33 6 12 34 56 78",
    ),
    (
        "IE",
        "Dublin",
        "D02 X285",
        "14 Baggot Street Lower",
        "",
        "+353 1 234 5678",
        "+353 85 123 4567",
    ),
]
EVERY = 37  # one customer in this many, from the eleventh, lives abroad


def move_abroad(demo, customers: list) -> None:
    for place, customer in zip(ABROAD, customers[10::EVERY], strict=False):
        country, city, postcode, street, region, landline, mobile = place
        customer_update(
            actor=demo.actor,
            customer=customer,
            data={
                "service_street": street,
                "service_city": city,
                "service_postcode": postcode,
                "service_region": region,
                "service_country": country,
                "latitude": None,
                "longitude": None,
            },
        )
        for index, contact in enumerate(customer.contacts.order_by("pk")):
            contact_update(
                actor=demo.actor,
                contact=contact,
                data={
                    "country": "",
                    "phone": landline if contact.phone or index == 0 else "",
                    "mobile": mobile if contact.mobile else "",
                },
            )
        customer.refresh_from_db()
