"""`patron createowner`: the first Owner login, with a generated password shown once."""

import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from patron.accounts.models import Role, User
from patron.accounts.services import user_create, user_set_password, user_update
from patron.accounts.throttle import clear_failures
from patron.core.actor import Actor
from patron.core.errors import ValidationError

# No 0/O, 1/l/I: the password is read off a terminal and typed in by hand.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def generate_password() -> str:
    """Four groups of four characters, about 79 bits of randomness."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(4)) for _ in range(4))


class Command(BaseCommand):
    help = (
        "Create the first Owner (username 'owner' unless --username says otherwise) with a "
        "generated password printed once. With --reset, give that Owner a new password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="owner", help="Username of the Owner.")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Generate and print a new password for the Owner (and unlock the login).",
        )

    def handle(self, *args, username="owner", reset=False, **options):
        actor = Actor.system_actor("patron createowner")
        if reset:
            return self._reset(actor, username)
        owners = list(
            User.objects.filter(role__is_owner=True, is_active=True).values_list(
                "username", flat=True
            )
        )
        if owners:
            self.stdout.write(
                f"An Owner already exists ({', '.join(owners)}). Sign in with the password "
                "printed when it was created. Forgotten it? Run `patron createowner --reset` "
                "to print a new one."
            )
            return
        role = Role.objects.filter(is_owner=True).order_by("pk").first()
        if role is None:
            raise CommandError("The Owner role is missing. Run `patron migrate` first.")
        password = generate_password()
        with transaction.atomic():
            user = User.objects.filter(username__iexact=username).first()
            try:
                if user is None:
                    user = user_create(
                        actor=actor,
                        data={"username": username, "role": role, "is_active": True},
                        password=password,
                    )
                else:
                    # A former Owner (deactivated or moved to another role) gets the role back.
                    user = user_update(
                        actor=actor, user=user, data={"role": role, "is_active": True}
                    )
                    user = user_set_password(actor=actor, user=user, password=password)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        self._print_login(user.username, password, "Owner login created")

    def _reset(self, actor: Actor, username: str) -> None:
        user = User.objects.filter(username__iexact=username).first()
        if user is None or not user.is_owner:
            owners = ", ".join(
                User.objects.filter(role__is_owner=True, is_active=True).values_list(
                    "username", flat=True
                )
            )
            hint = f" Owners: {owners}; pass one with --username." if owners else ""
            raise CommandError(f"There is no active Owner named “{username}”.{hint}")
        password = generate_password()
        user_set_password(actor=actor, user=user, password=password)
        clear_failures(user.username)
        self._print_login(user.username, password, "New Owner password set")

    def _print_login(self, username: str, password: str, title: str) -> None:
        url = f"http://{settings.PATRON_HOST}:{settings.PATRON_PORT}/"
        rule = "=" * 60
        self.stdout.write(
            "\n".join(
                [
                    rule,
                    f"  {title}. The password is shown only this once.",
                    f"    URL:      {url}",
                    f"    Username: {username}",
                    f"    Password: {password}",
                    rule,
                ]
            )
        )
