"""The demo provider's groups: customer type, a region tree, a payment arrangement."""

from __future__ import annotations

from patron.groups.models import Group, GroupSet
from patron.groups.services import group_create, group_set_create
from patron.ops.demo.base import get_or_create

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


def make_groups(demo) -> None:
    """The customer groups in the installation's first set, regions, and the payment group."""
    a = demo.actor
    main_set = GroupSet.objects.order_by("position", "pk").first()
    if main_set is None:
        main_set = group_set_create(
            actor=a, data={"name": "Customer group", "single_choice": True, "position": 10}
        )
    demo.customer_groups = {}
    for position, (name, desc, colour, personal) in enumerate(CUSTOMER_GROUPS, start=1):
        demo.customer_groups[name] = group(
            demo,
            name,
            group_set=main_set,
            description=desc,
            colour=colour,
            personal_customers=personal,
            reseller=name == "Wholesale",
            position=position * 10,
        )

    region_set = get_or_create(
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
    demo.regions = {}
    region_tree(demo, REGIONS, region_set, parent=None)

    payment_set = get_or_create(
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
    demo.payment_group = group(
        demo,
        PAYMENT_GROUP,
        group_set=payment_set,
        description="Housing association paying for its tenants' broadband.",
        colour="#198754",
        payment_group=True,
        personal_customers=True,
    )


def group(demo, name: str, **data):
    """The group called `name`, created through the service if it is missing."""
    made = get_or_create(
        Group,
        {"name__iexact": name},
        lambda: group_create(actor=demo.actor, data={"name": name, **data}),
    )
    demo.summary.groups += 1
    return made


def region_tree(demo, nodes, group_set, parent) -> None:
    for position, (name, children) in enumerate(nodes, start=1):
        region = group(demo, name, group_set=group_set, parent=parent, position=position * 10)
        demo.regions[name] = region
        region_tree(demo, children, group_set, region)
