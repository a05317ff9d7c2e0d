"""The demo provider's staff: one user per role, each in a department."""

from __future__ import annotations

import secrets

from patron.accounts.models import Role, User
from patron.accounts.services import user_create
from patron.departments.services import department_set_members

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


def make_users(demo) -> None:
    """The demo users (without a usable password) and their department memberships."""
    members = {name: list(d.members.all()) for name, d in demo.departments.items()}
    for username, first, last, role_name, department in DEMO_USERS:
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            user = user_create(
                actor=demo.actor,
                data={
                    "username": username,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@patron-demo.example",
                    "role": Role.objects.get(name=role_name),
                    "restricted_groups": [
                        demo.regions[g] for g in RESTRICTED_USERS.get(username, [])
                    ],
                },
                # Never shown: the Owner gives demo users a password when needed.
                password=secrets.token_urlsafe(24),
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if user not in members[department]:
            members[department].append(user)
        demo.summary.users.append(username)
    for name, department in demo.departments.items():
        department_set_members(actor=demo.actor, department=department, members=members[name])
