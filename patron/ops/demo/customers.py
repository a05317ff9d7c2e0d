"""The demo provider's customers: people, companies, public bodies and resellers.

Each is created through `customer_create` with its contacts, tags and groups
in one call, as the customer form does; the random choices come from the
loader's seeded generator, in a fixed order, so every installation gets the
same book.
"""

from __future__ import annotations

from patron.customers.services import customer_create, customer_tag_add, customer_update
from patron.ops.demo.base import slug, words
from patron.ops.demo.places import CITIES, CITY_WEIGHTS, address, mobile, phone, region_groups

FIRST_NAMES = words(
    "Oliver George Harry Jack Jacob Noah Charlie Muhammad Thomas Oscar William James Leo "
    "Alfie Henry Joshua Freddie Archie Ethan Isaac Alexander Joseph Samuel Daniel Logan "
    "Olivia Amelia Isla Ava Emily Sophia Grace Mia Poppy Ella Lily Evie Isabella Sophie "
    "Ivy Freya Harper Willow Charlotte Jessica Ruby Florence Daisy Chloe Aisha Priya "
    "Margaret Susan Patricia Brian Keith Graham Eileen Malcolm Rhys Siobhan Fiona Callum"
)
LAST_NAMES = words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis Harris Martin "
    "Cooper King Baker Hughes Edwards Turner Hill Moore Clark Ward Morris Watson Lee "
    "Allen Scott Mitchell Young Anderson Campbell Kelly Murphy Stewart MacDonald Reid "
    "Begum Ahmed Singh Hussain Chen Nowak Kowalski O'Neill Fraser Pritchard Lloyd Bell"
)
COMPANY_WORDS = words(
    "Aire Pennine Northgate Riverside Kingsway Castle Harbour Meadow Oakwood Granite Beacon "
    "Thames Mersey Clyde Severn Ridgeway Parkside Hillcrest Westgate Foundry Lantern Heron"
)
TRADES = [
    ("Logistics", "Ltd"),
    ("Dental Practice", ""),
    ("Accountants", "LLP"),
    ("Veterinary Surgery", ""),
    ("Architects", "Ltd"),
    ("Bakery", "Ltd"),
    ("Joinery", "Ltd"),
    ("Print Works", "Ltd"),
    ("Estate Agents", "Ltd"),
    ("Physiotherapy", "Ltd"),
    ("Hotel", "Ltd"),
    ("Motors", "Ltd"),
    ("Brewing Co.", ""),
    ("Engineering", "Ltd"),
    ("Catering", "Ltd"),
    ("Solicitors", "LLP"),
    ("Café", ""),
    ("Design Studio", "Ltd"),
]
PUBLIC_BODIES = [
    "St Mary's Primary School",
    "Hillside Academy",
    "Riverside Health Centre",
    "Central Library",
    "Community Fire Station",
    "Parish Council",
    "Sixth Form College",
    "Museum and Art Gallery",
]
CONTACT_TITLES = ["Office Manager", "Finance Director", "IT Manager", "Owner", "Operations Lead"]
NOTES = [
    "Prefers calls after 5pm.",
    "Engineer access through the side gate; dog on site.",
    "Asked for a quote for a second line.",
    "Router replaced under warranty last spring.",
    "Pays by standing order; check before chasing.",
    "Hard of hearing: email first, then call.",
]


def make_customers(demo) -> list:
    """`demo.count` customers across the towns, a few of them referred by earlier ones."""
    cities = list(CITIES)
    weights = [CITY_WEIGHTS.get(c, 1) for c in cities]
    made = []
    for index in range(demo.count):
        city = demo.rng.choices(cities, weights)[0]
        roll = demo.rng.random()
        if roll < 0.72:
            customer = person(demo, city)
        elif roll < 0.94:
            customer = company(demo, city)
        elif roll < 0.97:
            customer = public_body(demo, city)
        else:
            customer = wholesale(demo, city)
        made.append(customer)
        if index % 23 == 5 and len(made) > 10:
            referral(demo, customer, made)
    return made


def status_for_new(demo):
    # A few sign-ups have not gone live yet.
    name = "Prospect" if demo.rng.random() < 0.07 else "Active"
    return demo.statuses[name]


def create(demo, *, data: dict, tags: list[str], groups: list, contacts: list[dict]):
    tags = list(dict.fromkeys(tags))
    if demo.rng.random() < 0.45:
        tags.append("Paperless")
    if demo.rng.random() < 0.08:
        data["notes"] = demo.rng.choice(NOTES)
    customer = customer_create(
        actor=demo.actor,
        data={"status": status_for_new(demo), **data},
        tags=[demo.tags[t] for t in dict.fromkeys(tags)],
        groups=groups,
        contacts=contacts,
    )
    demo.summary.contacts += len(contacts)
    return customer


def person_name(demo) -> tuple[str, str]:
    return demo.rng.choice(FIRST_NAMES), demo.rng.choice(LAST_NAMES)


def email(demo, first: str, last: str, domain: str = "example.net") -> str:
    local = f"{first}.{last}".lower().replace("'", "")
    if demo.rng.random() < 0.3:
        local += str(demo.rng.randrange(10, 99))
    return f"{local}@{domain}"


def person(demo, city: str):
    first, last = person_name(demo)
    prefix = CITIES[city][4]
    contact = {
        "name": f"{first} {last}",
        "email": email(demo, first, last),
        "mobile": mobile(demo.rng),
        "phone": phone(demo.rng, prefix) if demo.rng.random() < 0.4 else "",
        "sms_opt_out": demo.rng.random() < 0.1,
        "email_opt_out": demo.rng.random() < 0.15,
    }
    contacts = [contact]
    if demo.rng.random() < 0.2:
        partner = demo.rng.choice(FIRST_NAMES)
        contacts.append(
            {"name": f"{partner} {last}", "mobile": mobile(demo.rng), "title": "Partner"}
        )
    tags = []
    for name, chance in (
        ("Fibre", 0.55),
        ("Senior", 0.1),
        ("Churn risk", 0.08),
        ("VIP", 0.03),
        ("Vulnerable", 0.04),
    ):
        if demo.rng.random() < chance:
            tags.append(name)
    if "Vulnerable" in tags:
        tags.append("Priority repair")
    groups = [demo.customer_groups["Residential"], *region_groups(demo, city)]
    if city == "Leeds" and demo.rng.random() < 0.25:
        groups.append(demo.payment_group)
    return create(
        demo,
        data={
            "name": f"{first} {last}",
            "kind": "person",
            "customer_class": demo.classes["Personal"],
            **address(demo, city),
        },
        tags=tags,
        groups=groups,
        contacts=contacts,
    )


def company_contacts(demo, city: str, domain: str, count: int) -> list[dict]:
    contacts = []
    for title in demo.rng.sample(CONTACT_TITLES, count):
        first, last = person_name(demo)
        contacts.append(
            {
                "name": f"{first} {last}",
                "title": title,
                "email": f"{first.lower()}.{last.lower().replace(chr(39), '')}@{domain}",
                "phone": phone(demo.rng, CITIES[city][4]),
                "mobile": mobile(demo.rng) if demo.rng.random() < 0.6 else "",
            }
        )
    return contacts


def company(demo, city: str):
    trade, suffix = demo.rng.choice(TRADES)
    if demo.rng.random() < 0.3:
        a, b = demo.rng.sample(LAST_NAMES, 2)
        base = f"{a} & {b}"
    else:
        base = demo.rng.choice(COMPANY_WORDS)
    name = " ".join(p for p in (base, trade, suffix) if p)
    domain = f"{slug(base)}-{slug(trade)}.example"
    tags = ["Business"]
    chances = (("Fibre", 0.7), ("Static IP", 0.35), ("VIP", 0.1), ("Churn risk", 0.06))
    for tag, chance in chances:
        if demo.rng.random() < chance:
            tags.append(tag)
    if "VIP" in tags:
        tags.append("Priority repair")
    groups = [demo.customer_groups["Business"], *region_groups(demo, city)]
    # A few companies have a second site in another region.
    if demo.rng.random() < 0.08:
        other = demo.rng.choice([c for c in CITIES if CITIES[c][0] != CITIES[city][0]])
        groups += region_groups(demo, other)
    return create(
        demo,
        data={
            "name": name,
            "kind": "company",
            "customer_class": demo.classes["Business"],
            "department": demo.departments["Sales"],
            **address(demo, city),
        },
        tags=tags,
        groups=groups,
        contacts=company_contacts(demo, city, domain, demo.rng.choice([1, 1, 2])),
    )


def public_body(demo, city: str):
    place = city.removeprefix("London ")
    name = f"{place} {demo.rng.choice(PUBLIC_BODIES)}"
    return create(
        demo,
        data={
            "name": name,
            "kind": "company",
            "customer_class": demo.classes["Public sector"],
            "department": demo.departments["Sales"],
            **address(demo, city),
        },
        tags=["Business", "Fibre", "Priority repair"],
        groups=[demo.customer_groups["Business"], *region_groups(demo, city)],
        contacts=company_contacts(demo, city, f"{slug(name)}.example", 2),
    )


def wholesale(demo, city: str):
    name = f"{demo.rng.choice(COMPANY_WORDS)} Networks Ltd"
    return create(
        demo,
        data={
            "name": name,
            "kind": "company",
            "customer_class": demo.classes["Business"],
            "department": demo.departments["Technical support"],
            **address(demo, city),
        },
        tags=["Business", "Static IP", "VIP"],
        groups=[demo.customer_groups["Wholesale"], *region_groups(demo, city)],
        contacts=company_contacts(demo, city, f"{slug(name)}.example", 2),
    )


def referral(demo, customer, made: list) -> None:
    referrer = demo.rng.choice(made[:-1])
    customer_update(actor=demo.actor, customer=customer, data={"referred_by": referrer})
    if not customer.tags.filter(pk=demo.tags["Referral"].pk).exists():
        customer_tag_add(actor=demo.actor, customer=customer, tag=demo.tags["Referral"])
