"""Demo data: a small UK broadband and phone provider, loaded through the services.

Everything is written with `Actor.system_actor("demo loader")` through the
same service functions the web pages and the API use, so the event log, the
group rules and the status history are exactly what real use produces. A
fixed random seed makes every installation's demo data the same.

`ensure_defaults()` re-creates the rows Patron's data migrations provide (the
default statuses, the default group set and the built-in roles); tests that
flush the database call it to start from a freshly installed state.
"""

from __future__ import annotations

import datetime
import importlib
import random
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps as global_apps
from django.db import transaction
from django.utils import timezone

from patron.core.actor import Actor

DEMO_SEED = 20260401
DEMO_CUSTOMERS = 300
DEMO_ACTOR = "demo loader"

# --- the installed defaults ----------------------------------------------------


def ensure_defaults() -> None:
    """Create the default statuses, group set and roles if they are missing.

    Runs the data migrations' own functions against the live models, so there
    is one definition of what a fresh installation holds.
    """
    from patron.accounts.roles import ensure_default_roles

    for module, function in (
        ("patron.statuses.migrations.0002_default_statuses", "create_defaults"),
        ("patron.groups.migrations.0002_default_group_set", "create_default_set"),
    ):
        getattr(importlib.import_module(module), function)(global_apps, None)
    ensure_default_roles()


def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


# --- the lists -----------------------------------------------------------------

TAGS = [
    ("VIP", "#d4a017", "High-value account: handle with extra care."),
    ("Fibre", "#0d6efd", "On a full-fibre (FTTP) line."),
    ("Business", "#6f42c1", "Business-grade service level."),
    ("Churn risk", "#dc3545", "Has complained or asked about leaving."),
    ("Paperless", "#198754", "Receives invoices by email only."),
    ("Senior", "#20c997", "Customer over 70; offer the priority phone line."),
    ("Priority repair", "#fd7e14", "Fault fixes within 4 hours (medical or business need)."),
    ("Static IP", "#6c757d", "Has one or more fixed IPv4 addresses."),
    ("Referral", "#d63384", "Joined through a referral from another customer."),
    ("Vulnerable", "#842029", "Registered as needing extra support."),
]

CLASSES = [
    ("Personal", "Private individuals.", 2190, False, 10),
    ("Business", "Companies and sole traders.", 2190, True, 20),
    ("Public sector", "Councils, schools and health services.", 3650, True, 30),
]

DEPARTMENTS = [
    ("Billing", "Invoices, payments and refunds.", "billing@patron-demo.example"),
    ("Technical support", "Faults, installations and repairs.", "support@patron-demo.example"),
    ("Sales", "New accounts, upgrades and business quotes.", "sales@patron-demo.example"),
]

# username, first name, last name, role, department
DEMO_USERS = [
    ("amelia.clarke", "Amelia", "Clarke", "Administrator", "Billing"),
    ("tom.bennett", "Tom", "Bennett", "Staff", "Technical support"),
    ("priya.shah", "Priya", "Shah", "Staff", "Sales"),
    ("james.wright", "James", "Wright", "Staff", "Technical support"),
    ("grace.hughes", "Grace", "Hughes", "Read-only", "Billing"),
]
# James looks after the northern region only and sees just those customers.
RESTRICTED_USERS = {"james.wright": ["North"]}

CUSTOMER_GROUPS = [
    ("Residential", "Homes on consumer broadband and phone plans.", "#0d6efd", True),
    ("Business", "Companies on business plans.", "#6f42c1", False),
    ("Wholesale", "Resellers buying lines for their own customers.", "#fd7e14", False),
]

# Region tree: (name, children). Cities are the leaves customers mostly sit in.
REGIONS = [
    ("North", [("Leeds", []), ("Manchester", []), ("Sheffield", []), ("Newcastle", [])]),
    ("Midlands", [("Birmingham", []), ("Leicester", [])]),
    (
        "South",
        [
            ("London", [("Camden", []), ("Islington", []), ("Hackney", []), ("Southwark", [])]),
            ("Bristol", []),
            ("Reading", []),
        ],
    ),
    ("Scotland", [("Edinburgh", []), ("Glasgow", [])]),
    ("Wales", [("Cardiff", [])]),
    ("Northern Ireland", [("Belfast", [])]),
]

PAYMENT_GROUP = "Aire Valley Housing"

# city -> (region group, latitude, longitude, postcode districts, landline prefix or "")
# Landline prefixes are Ofcom's ranges kept for drama and examples.
CITIES = {
    "Leeds": ("Leeds", 53.7997, -1.5492, ["LS1", "LS2", "LS6", "LS7", "LS8", "LS11"], "113 496 0"),
    "Manchester": ("Manchester", 53.4808, -2.2426, ["M1", "M4", "M14", "M20", "M21"], "161 496 0"),
    "Sheffield": ("Sheffield", 53.3811, -1.4701, ["S1", "S2", "S7", "S10", "S11"], "114 496 0"),
    "Newcastle upon Tyne": (
        "Newcastle",
        54.9783,
        -1.6178,
        ["NE1", "NE2", "NE4", "NE6"],
        "191 498 0",
    ),
    "Birmingham": ("Birmingham", 52.4862, -1.8904, ["B1", "B5", "B13", "B15", "B29"], "121 496 0"),
    "Leicester": ("Leicester", 52.6369, -1.1398, ["LE1", "LE2", "LE3", "LE5"], "116 496 0"),
    "London Camden": ("Camden", 51.5390, -0.1426, ["NW1", "NW3", "NW5"], "20 7946 0"),
    "London Islington": ("Islington", 51.5465, -0.1058, ["N1", "N5", "N7"], "20 7946 0"),
    "London Hackney": ("Hackney", 51.5450, -0.0553, ["E2", "E5", "E8", "E9"], "20 7946 0"),
    "London Southwark": (
        "Southwark",
        51.5035,
        -0.0804,
        ["SE1", "SE5", "SE15", "SE22"],
        "20 7946 0",
    ),
    "Bristol": ("Bristol", 51.4545, -2.5879, ["BS1", "BS3", "BS6", "BS7", "BS8"], "117 496 0"),
    "Reading": ("Reading", 51.4543, -0.9781, ["RG1", "RG2", "RG4", "RG30"], "118 496 0"),
    "Edinburgh": ("Edinburgh", 55.9533, -3.1883, ["EH1", "EH3", "EH6", "EH10"], "131 496 0"),
    "Glasgow": ("Glasgow", 55.8642, -4.2518, ["G1", "G3", "G11", "G12", "G41"], "141 496 0"),
    "Cardiff": ("Cardiff", 51.4816, -3.1791, ["CF10", "CF11", "CF14", "CF24"], "29 2018 0"),
    "Belfast": ("Belfast", 54.5973, -5.9301, ["BT1", "BT7", "BT9", "BT15"], "28 9018 0"),
}
# Leeds is the provider's home town, so it has the most customers.
CITY_WEIGHTS = {"Leeds": 6, "Manchester": 3, "Sheffield": 2, "London Camden": 2, "Bristol": 2}

FIRST_NAMES = _words(
    "Oliver George Harry Jack Jacob Noah Charlie Muhammad Thomas Oscar William James Leo "
    "Alfie Henry Joshua Freddie Archie Ethan Isaac Alexander Joseph Samuel Daniel Logan "
    "Olivia Amelia Isla Ava Emily Sophia Grace Mia Poppy Ella Lily Evie Isabella Sophie "
    "Ivy Freya Harper Willow Charlotte Jessica Ruby Florence Daisy Chloe Aisha Priya "
    "Margaret Susan Patricia Brian Keith Graham Eileen Malcolm Rhys Siobhan Fiona Callum"
)
LAST_NAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis Harris Martin "
    "Cooper King Baker Hughes Edwards Turner Hill Moore Clark Ward Morris Watson Lee "
    "Allen Scott Mitchell Young Anderson Campbell Kelly Murphy Stewart MacDonald Reid "
    "Begum Ahmed Singh Hussain Chen Nowak Kowalski O'Neill Fraser Pritchard Lloyd Bell"
)
STREETS = _words(
    "High Street|Station Road|Church Lane|Victoria Road|Park Avenue|Mill Lane|Queen Street|"
    "King Street|The Crescent|Manor Road|Chapel Street|Albert Road|Springfield Road|"
    "Orchard Close|Grange Road|Beech Grove|Westfield Avenue|North Street|Kingsway|"
    "Castle Street|Meadow View|Cedar Drive|Windsor Terrace|Canal Wharf|Market Place",
    sep="|",
)
COMPANY_WORDS = _words(
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
SUSPEND_REASONS = [
    "Unpaid invoices over 60 days",
    "Customer request: working abroad for three months",
    "Abuse report: spam sent from the static IP",
    "Direct Debit cancelled by the bank",
]
CEASE_REASONS = [
    "Moved out of the service area",
    "Switched to another provider",
    "Business closed",
    "Bereavement: account closed at the family's request",
    "Building demolished",
]
NOTES = [
    "Prefers calls after 5pm.",
    "Engineer access through the side gate; dog on site.",
    "Asked for a quote for a second line.",
    "Router replaced under warranty last spring.",
    "Pays by standing order; check before chasing.",
    "Hard of hearing: email first, then call.",
]

POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass
class DemoSummary:
    customers: int = 0
    contacts: int = 0
    tags: int = 0
    groups: int = 0
    users: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"Loaded {self.customers} customers with {self.contacts} contacts, "
            f"{self.tags} tags and {self.groups} groups.",
            "Demo staff users: " + ", ".join(self.users) + " (no password yet: as the Owner, "
            "set one on the Users page to sign in as them).",
        ]


class DemoRefused(Exception):
    """The database already holds customers and `force` was not given."""


# --- helpers ---------------------------------------------------------------------


def _get_or_create(model, lookup: dict, create):
    """The existing row, or a new one made by `create()` (a service call)."""
    existing = model.objects.filter(**lookup).first()
    return existing if existing is not None else create()


def _phone(rng: random.Random, prefix: str) -> str:
    return f"+44 {prefix}{rng.randrange(1000):03d}"


def _mobile(rng: random.Random) -> str:
    return f"+44 7400 {rng.randrange(100000, 999999)}"


def _postcode(rng: random.Random, districts: list[str]) -> str:
    letters = "".join(rng.choice(POSTCODE_LETTERS) for _ in range(2))
    return f"{rng.choice(districts)} {rng.randrange(1, 10)}{letters}"


def _coordinate(rng: random.Random, centre: float, spread: float) -> Decimal:
    return Decimal(str(round(centre + rng.uniform(-spread, spread), 6)))


def _slug(text: str) -> str:
    return "".join(c for c in text.lower().replace(" ", "-") if c.isalnum() or c == "-").strip("-")


# --- the loader --------------------------------------------------------------------


class DemoLoader:
    def __init__(self, *, customers: int, seed: int):
        self.count = customers
        self.rng = random.Random(seed)
        self.actor = Actor.system_actor(DEMO_ACTOR)
        self.summary = DemoSummary()
        self.today = timezone.localdate()

    def load(self) -> DemoSummary:
        self.make_lists()
        self.make_users()
        self.make_customers()
        self.make_work()
        return self.summary

    # Lists ---------------------------------------------------------------------

    def make_lists(self) -> None:
        from patron.classes.models import CustomerClass
        from patron.classes.services import customer_class_create
        from patron.departments.models import Department
        from patron.departments.services import department_create
        from patron.groups.models import GroupSet
        from patron.groups.services import group_set_create
        from patron.statuses.models import Status
        from patron.tags.models import Tag
        from patron.tags.services import tag_create

        a = self.actor
        self.tags = {
            name: _get_or_create(
                Tag,
                {"name__iexact": name},
                lambda n=name, c=colour, d=desc: tag_create(
                    actor=a, data={"name": n, "colour": c, "description": d}
                ),
            )
            for name, colour, desc in TAGS
        }
        self.classes = {
            name: _get_or_create(
                CustomerClass,
                {"name__iexact": name},
                lambda n=name, d=desc, r=days, v=verify, p=pos: customer_class_create(
                    actor=a,
                    data={
                        "name": n,
                        "description": d,
                        "retention_days": r,
                        "verification_required": v,
                        "position": p,
                    },
                ),
            )
            for name, desc, days, verify, pos in CLASSES
        }
        self.departments = {
            name: _get_or_create(
                Department,
                {"name__iexact": name},
                lambda n=name, d=desc, e=email: department_create(
                    actor=a, data={"name": n, "description": d, "email": e}
                ),
            )
            for name, desc, email in DEPARTMENTS
        }
        self.statuses = {s.name: s for s in Status.objects.all()}

        main_set = GroupSet.objects.order_by("position", "pk").first()
        if main_set is None:
            main_set = group_set_create(
                actor=a, data={"name": "Customer group", "single_choice": True, "position": 10}
            )
        self.customer_groups = {}
        for position, (name, desc, colour, personal) in enumerate(CUSTOMER_GROUPS, start=1):
            self.customer_groups[name] = self._group(
                name,
                group_set=main_set,
                description=desc,
                colour=colour,
                personal_customers=personal,
                reseller=name == "Wholesale",
                position=position * 10,
            )

        region_set = _get_or_create(
            GroupSet,
            {"name__iexact": "Region"},
            lambda: group_set_create(
                actor=a,
                data={
                    "name": "Region",
                    "description": "Where the service address is; a customer with sites in "
                    "several places can be in several regions.",
                    "single_choice": False,
                    "position": 20,
                },
            ),
        )
        self.regions = {}
        self._region_tree(REGIONS, region_set, parent=None)

        payment_set = _get_or_create(
            GroupSet,
            {"name__iexact": "Payment arrangement"},
            lambda: group_set_create(
                actor=a,
                data={
                    "name": "Payment arrangement",
                    "description": "Landlords and employers who pay for their members' lines.",
                    "single_choice": True,
                    "position": 30,
                },
            ),
        )
        self.payment_group = self._group(
            PAYMENT_GROUP,
            group_set=payment_set,
            description="Housing association paying for its tenants' broadband.",
            colour="#198754",
            payment_group=True,
            personal_customers=True,
        )
        self.summary.tags = len(self.tags)

    def _group(self, name: str, **data):
        from patron.groups.models import Group
        from patron.groups.services import group_create

        group = _get_or_create(
            Group,
            {"name__iexact": name},
            lambda: group_create(actor=self.actor, data={"name": name, **data}),
        )
        self.summary.groups += 1
        return group

    def _region_tree(self, nodes, group_set, parent) -> None:
        for position, (name, children) in enumerate(nodes, start=1):
            group = self._group(name, group_set=group_set, parent=parent, position=position * 10)
            self.regions[name] = group
            self._region_tree(children, group_set, group)

    # Users ---------------------------------------------------------------------

    def make_users(self) -> None:
        from patron.accounts.models import Role, User
        from patron.accounts.services import user_create
        from patron.departments.services import department_set_members

        members = {name: list(d.members.all()) for name, d in self.departments.items()}
        for username, first, last, role_name, department in DEMO_USERS:
            user = User.objects.filter(username__iexact=username).first()
            if user is None:
                user = user_create(
                    actor=self.actor,
                    data={
                        "username": username,
                        "first_name": first,
                        "last_name": last,
                        "email": f"{username}@patron-demo.example",
                        "role": Role.objects.get(name=role_name),
                        "restricted_groups": [
                            self.regions[g] for g in RESTRICTED_USERS.get(username, [])
                        ],
                    },
                    # Never shown: the Owner gives demo users a password when needed.
                    password=secrets.token_urlsafe(24),
                )
                user.set_unusable_password()
                user.save(update_fields=["password"])
            if user not in members[department]:
                members[department].append(user)
            self.summary.users.append(username)
        for name, department in self.departments.items():
            department_set_members(actor=self.actor, department=department, members=members[name])

    # Customers -----------------------------------------------------------------

    def make_customers(self) -> None:
        cities = list(CITIES)
        weights = [CITY_WEIGHTS.get(c, 1) for c in cities]
        made = []
        for index in range(self.count):
            city = self.rng.choices(cities, weights)[0]
            roll = self.rng.random()
            if roll < 0.72:
                customer = self._person(city)
            elif roll < 0.94:
                customer = self._company(city)
            elif roll < 0.97:
                customer = self._public_body(city)
            else:
                customer = self._wholesale(city)
            made.append(customer)
            if index % 23 == 5 and len(made) > 10:
                self._referral(customer, made)
        self._customer_since(made)
        self._lifecycle(made)
        self.summary.customers = len(made)
        self.made = made

    def make_work(self) -> None:
        _make_work(self, getattr(self, "made", []))

    def _address(self, city: str) -> dict:
        _, lat, lon, districts, _ = CITIES[city]
        return {
            "service_street": f"{self.rng.randrange(1, 240)} {self.rng.choice(STREETS)}",
            "service_city": "London" if city.startswith("London ") else city,
            "service_postcode": _postcode(self.rng, districts),
            "service_country": "GB",
            "latitude": _coordinate(self.rng, lat, 0.04),
            "longitude": _coordinate(self.rng, lon, 0.06),
        }

    def _region_groups(self, city: str) -> list:
        return [self.regions[CITIES[city][0]]]

    def _status_for_new(self):
        # A few sign-ups have not gone live yet.
        name = "Prospect" if self.rng.random() < 0.07 else "Active"
        return self.statuses[name]

    def _create(self, *, data: dict, tags: list[str], groups: list, contacts: list[dict]):
        from patron.customers.services import customer_create

        tags = list(dict.fromkeys(tags))
        if self.rng.random() < 0.45:
            tags.append("Paperless")
        if self.rng.random() < 0.08:
            data["notes"] = self.rng.choice(NOTES)
        customer = customer_create(
            actor=self.actor,
            data={"status": self._status_for_new(), **data},
            tags=[self.tags[t] for t in dict.fromkeys(tags)],
            groups=groups,
            contacts=contacts,
        )
        self.summary.contacts += len(contacts)
        return customer

    def _person_name(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def _email(self, first: str, last: str, domain: str = "example.net") -> str:
        local = f"{first}.{last}".lower().replace("'", "")
        if self.rng.random() < 0.3:
            local += str(self.rng.randrange(10, 99))
        return f"{local}@{domain}"

    def _person(self, city: str):
        first, last = self._person_name()
        prefix = CITIES[city][4]
        contact = {
            "name": f"{first} {last}",
            "email": self._email(first, last),
            "mobile": _mobile(self.rng),
            "phone": _phone(self.rng, prefix) if self.rng.random() < 0.4 else "",
            "sms_opt_out": self.rng.random() < 0.1,
            "email_opt_out": self.rng.random() < 0.15,
        }
        contacts = [contact]
        if self.rng.random() < 0.2:
            partner = self.rng.choice(FIRST_NAMES)
            contacts.append(
                {"name": f"{partner} {last}", "mobile": _mobile(self.rng), "title": "Partner"}
            )
        tags = []
        for name, chance in (
            ("Fibre", 0.55),
            ("Senior", 0.1),
            ("Churn risk", 0.08),
            ("VIP", 0.03),
            ("Vulnerable", 0.04),
        ):
            if self.rng.random() < chance:
                tags.append(name)
        if "Vulnerable" in tags:
            tags.append("Priority repair")
        groups = [self.customer_groups["Residential"], *self._region_groups(city)]
        if city == "Leeds" and self.rng.random() < 0.25:
            groups.append(self.payment_group)
        return self._create(
            data={
                "name": f"{first} {last}",
                "kind": "person",
                "customer_class": self.classes["Personal"],
                **self._address(city),
            },
            tags=tags,
            groups=groups,
            contacts=contacts,
        )

    def _company_contacts(self, city: str, domain: str, count: int) -> list[dict]:
        contacts = []
        for title in self.rng.sample(CONTACT_TITLES, count):
            first, last = self._person_name()
            contacts.append(
                {
                    "name": f"{first} {last}",
                    "title": title,
                    "email": f"{first.lower()}.{last.lower().replace(chr(39), '')}@{domain}",
                    "phone": _phone(self.rng, CITIES[city][4]),
                    "mobile": _mobile(self.rng) if self.rng.random() < 0.6 else "",
                }
            )
        return contacts

    def _company(self, city: str):
        trade, suffix = self.rng.choice(TRADES)
        if self.rng.random() < 0.3:
            a, b = self.rng.sample(LAST_NAMES, 2)
            base = f"{a} & {b}"
        else:
            base = self.rng.choice(COMPANY_WORDS)
        name = " ".join(p for p in (base, trade, suffix) if p)
        domain = f"{_slug(base)}-{_slug(trade)}.example"
        tags = ["Business"]
        chances = (("Fibre", 0.7), ("Static IP", 0.35), ("VIP", 0.1), ("Churn risk", 0.06))
        for tag, chance in chances:
            if self.rng.random() < chance:
                tags.append(tag)
        if "VIP" in tags:
            tags.append("Priority repair")
        groups = [self.customer_groups["Business"], *self._region_groups(city)]
        # A few companies have a second site in another region.
        if self.rng.random() < 0.08:
            other = self.rng.choice([c for c in CITIES if CITIES[c][0] != CITIES[city][0]])
            groups += self._region_groups(other)
        return self._create(
            data={
                "name": name,
                "kind": "company",
                "customer_class": self.classes["Business"],
                "department": self.departments["Sales"],
                **self._address(city),
            },
            tags=tags,
            groups=groups,
            contacts=self._company_contacts(city, domain, self.rng.choice([1, 1, 2])),
        )

    def _public_body(self, city: str):
        place = city.removeprefix("London ")
        name = f"{place} {self.rng.choice(PUBLIC_BODIES)}"
        return self._create(
            data={
                "name": name,
                "kind": "company",
                "customer_class": self.classes["Public sector"],
                "department": self.departments["Sales"],
                **self._address(city),
            },
            tags=["Business", "Fibre", "Priority repair"],
            groups=[self.customer_groups["Business"], *self._region_groups(city)],
            contacts=self._company_contacts(city, f"{_slug(name)}.example", 2),
        )

    def _wholesale(self, city: str):
        name = f"{self.rng.choice(COMPANY_WORDS)} Networks Ltd"
        return self._create(
            data={
                "name": name,
                "kind": "company",
                "customer_class": self.classes["Business"],
                "department": self.departments["Technical support"],
                **self._address(city),
            },
            tags=["Business", "Static IP", "VIP"],
            groups=[self.customer_groups["Wholesale"], *self._region_groups(city)],
            contacts=self._company_contacts(city, f"{_slug(name)}.example", 2),
        )

    def _referral(self, customer, made: list) -> None:
        from patron.customers.services import customer_tag_add, customer_update

        referrer = self.rng.choice(made[:-1])
        customer_update(actor=self.actor, customer=customer, data={"referred_by": referrer})
        if not customer.tags.filter(pk=self.tags["Referral"].pk).exists():
            customer_tag_add(actor=self.actor, customer=customer, tag=self.tags["Referral"])

    def _customer_since(self, made: list) -> None:
        """Spread the accounts over the last six years, oldest first, as a real book is.

        The account's start (its `created` date, the "Customer since" line) and
        its opening status change move back together; the event log keeps the
        day the demo was loaded, as it would for accounts brought over from an
        older system.
        """
        from patron.customers.models import Customer, StatusChange

        now = timezone.now()
        span = 6 * 365
        for index, customer in enumerate(made):
            days = span - (index * span) // max(1, len(made)) + self.rng.randrange(0, 3)
            customer.created = now - datetime.timedelta(
                days=days, minutes=self.rng.randrange(0, 600)
            )
            customer.status_since = customer.created.date()
        Customer.objects.bulk_update(made, ["created", "status_since"], batch_size=500)
        opened = list(
            StatusChange.objects.filter(customer__in=made, from_status__isnull=True).select_related(
                "customer"
            )
        )
        for change in opened:
            change.effective_date = change.customer.created.date()
        StatusChange.objects.bulk_update(opened, ["effective_date"], batch_size=500)

    def _lifecycle(self, made: list) -> None:
        """Suspend, cease, schedule and archive a few accounts, with reasons and dates."""
        from patron.customers.services import customer_archive, customer_status_change

        active = [c for c in made if c.status_id == self.statuses["Active"].pk]
        self.rng.shuffle(active)
        count = max(1, len(active) // 16)
        suspended, ceased = active[:count], active[count : count * 2]
        leaving = active[count * 2 : count * 2 + max(1, count // 3)]
        for customer in suspended:
            customer_status_change(
                actor=self.actor,
                customer=customer,
                status=self.statuses["Suspended"],
                reason=self.rng.choice(SUSPEND_REASONS),
                # Within the 30 days after which a suspended account moves on to Ceased.
                effective_date=self.today - datetime.timedelta(days=self.rng.randrange(0, 20)),
            )
        for customer in ceased:
            customer_status_change(
                actor=self.actor,
                customer=customer,
                status=self.statuses["Ceased"],
                reason=self.rng.choice(CEASE_REASONS),
                effective_date=self.today - datetime.timedelta(days=self.rng.randrange(1, 120)),
            )
        for customer in leaving:
            customer_status_change(
                actor=self.actor,
                customer=customer,
                status=self.statuses["Ceased"],
                reason="Notice given: moving house",
                effective_date=self.today + datetime.timedelta(days=self.rng.randrange(7, 45)),
            )
        for customer in ceased[: max(1, len(ceased) // 4)]:
            customer_archive(
                actor=self.actor, customer=customer, reason="Ceased account tidied away"
            )


# --- work on customers: custom fields, banners, notes, tasks, tickets, calls ---------

CUSTOM_FIELDS = [
    {
        "label": "Line speed",
        "key": "line_speed",
        "field_type": "number",
        "help_text": "Synchronised download speed in Mbps.",
        "position": 10,
    },
    {
        "label": "Router",
        "key": "router",
        "field_type": "choice",
        "choices": ["Patron Hub 2", "Patron Hub 3", "Customer's own"],
        "position": 20,
    },
    {
        "label": "Contract end",
        "key": "contract_end",
        "field_type": "date",
        "help_text": "When the minimum term ends.",
        "position": 30,
    },
]

# name, message, severity, tag
BANNER_RULES = [
    ("Vulnerable", "Vulnerable customer: follow the care policy", "danger", "Vulnerable"),
    (
        "Churn risk",
        "Churn risk: offer the retention team before cancelling",
        "warning",
        "Churn risk",
    ),
    (
        "Priority repair",
        "Priority repair: faults are fixed within 4 hours",
        "info",
        "Priority repair",
    ),
]

# subject, description, department, priority, status
DEMO_TICKETS = [
    (
        "Broadband drops every evening",
        "Line stats show errors after 7pm.",
        "Technical support",
        "high",
        "open",
    ),
    ("Charged twice in March", "Duplicate direct debit collected.", "Billing", "normal", "open"),
    (
        "Router lights flashing red",
        "Replacement sent by courier.",
        "Technical support",
        "normal",
        "pending",
    ),
    ("Refund for outage", "Credit of three days applied.", "Billing", "low", "closed"),
    ("Upgrade to 900 Mbps", "Quote sent; awaiting signature.", "Sales", "normal", "open"),
    ("No dial tone", "Engineer visit booked.", "Technical support", "urgent", "open"),
]

# title, department, due in days
DEMO_TASKS = [
    ("Call back about the payment plan", "Billing", 1),
    ("Send the welcome pack", "Sales", 3),
    ("Check the line test results", "Technical support", 0),
    ("Review the direct debit mandate", "Billing", -2),
]

DEMO_NOTES = [
    ("Prefers contact by email after 5pm.", "Technical support", False, True),
    ("Agreed a payment plan of £20 a month until June.", "Billing", True, True),
    ("Asked about business broadband for a home office.", "Sales", False, False),
]

DEMO_CALLS = [
    ("in", 240, "Reported slow speeds; ran a line test.", "follow_up"),
    ("out", 95, "Called back to confirm the engineer visit.", "resolved"),
    ("in", 410, "Questioned the latest bill; explained the pro-rata charge.", "resolved"),
]


def _make_work(loader: DemoLoader, made: list) -> None:
    """A few custom fields, banner rules, notes, tasks, tickets and calls."""
    from patron.accounts.models import User
    from patron.banners.models import BannerRule
    from patron.banners.services import banner_rule_create
    from patron.calls.services import call_log_create
    from patron.customfields.models import CustomField
    from patron.customfields.services import custom_field_create, customer_custom_fields_set
    from patron.notes.services import note_create
    from patron.tasks.services import task_create
    from patron.tickets.services import ticket_close, ticket_comment, ticket_create

    a, rng, today = loader.actor, loader.rng, loader.today
    for data in CUSTOM_FIELDS:
        _get_or_create(
            CustomField, {"key": data["key"]}, lambda d=data: custom_field_create(actor=a, data=d)
        )
    for name, message, severity, tag in BANNER_RULES:
        _get_or_create(
            BannerRule,
            {"name": name},
            lambda n=name, m=message, s=severity, t=tag: banner_rule_create(
                actor=a, data={"name": n, "message": m, "severity": s, "tag": loader.tags[t]}
            ),
        )
    live = [c for c in made if not c.archived]
    if not live:
        return
    for customer in live[: max(1, len(live) // 3)]:
        values = {
            "line_speed": rng.choice([36, 67, 150, 500, 900]),
            "router": rng.choice(CUSTOM_FIELDS[1]["choices"]),
        }
        if rng.random() < 0.5:
            values["contract_end"] = today + datetime.timedelta(days=rng.randrange(30, 700))
        customer_custom_fields_set(actor=a, customer=customer, values=values)
    people = {
        name: list(User.objects.filter(departments=d, role__name__in=["Staff", "Administrator"]))
        for name, d in loader.departments.items()
    }

    def person(department):
        return rng.choice(people[department]) if people[department] else None

    picked = rng.sample(live, min(len(live), 12))
    for index, customer in enumerate(picked):
        subject, description, dept, priority, status = DEMO_TICKETS[index % len(DEMO_TICKETS)]
        ticket = ticket_create(
            actor=a,
            customer=customer,
            data={
                "subject": subject,
                "description": description,
                "department": loader.departments[dept],
                "assignee": person(dept),
                "priority": priority,
                "status": "pending" if status == "pending" else "open",
            },
        )
        ticket_comment(actor=a, ticket=ticket, body="Customer updated by phone.")
        if status == "closed":
            ticket_close(actor=a, ticket=ticket)
        title, dept, due = DEMO_TASKS[index % len(DEMO_TASKS)]
        task_create(
            actor=a,
            customer=customer,
            data={
                "title": title,
                "department": loader.departments[dept],
                "assignee": person(dept),
                "due_date": today + datetime.timedelta(days=due),
            },
        )
        body, dept, private, pinned = DEMO_NOTES[index % len(DEMO_NOTES)]
        note_create(
            actor=a,
            customer=customer,
            data={
                "body": body,
                "department": loader.departments[dept],
                "private_to_department": private,
                "pinned": pinned,
            },
        )
        direction, seconds, summary, outcome = DEMO_CALLS[index % len(DEMO_CALLS)]
        call_log_create(
            actor=a,
            customer=customer,
            data={
                "direction": direction,
                "duration": seconds,
                "summary": summary,
                "outcome": outcome,
                "contact": customer.contacts.first(),
                "staff_user": person("Technical support"),
                "started_at": timezone.now() - datetime.timedelta(hours=rng.randrange(1, 400)),
            },
        )


def load_demo(
    *, customers: int = DEMO_CUSTOMERS, seed: int = DEMO_SEED, force: bool = False
) -> DemoSummary:
    """Load the demo data in one transaction; refuse if customers exist unless `force`."""
    from patron.customers.models import Customer

    existing = Customer.objects.count()
    if existing and not force:
        raise DemoRefused(
            f"The database already holds {existing} customer(s), so the demo data was not "
            "loaded. Use --force to add the demo customers anyway."
        )
    with transaction.atomic():
        ensure_defaults()
        return DemoLoader(customers=customers, seed=seed).load()
