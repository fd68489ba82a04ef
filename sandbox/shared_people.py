"""People who appear in all three vendors' data: an opt-in dataset option, off by default.

The default datasets share no email between vendors (Cast contacts, Webcasts.com registrants
and Rev users are drawn from separate pools), so cross-vendor identity could not be shown on
them. ``shared_people=N`` (``--shared-people N`` on the CLI) adds N people to each dataset,
on top of its default rows, which stay exactly as they are:

- Cast: a contact on two finished campaigns (delivered, view, play; every other one clicks);
- Webcasts.com: a registrant of two events who watches live (every other one also on demand,
  every third asks a question);
- Rev: a user with two overlapping sessions in one webcast and one in another, a chat comment
  and a question carrying only their username, and (for Public webcasts) a guest registration.

Each vendor spells the email its own way (:meth:`SharedPerson.email_at`); lower-cased and
trimmed they are equal. The Rev username is not the email's local part, so only Rev's own
sessions (which carry both) can link a comment or a question to the person.

ASSUMPTION: real tenants spell one address differently per system (a CSV upload keeps the
case typed, a user directory capitalises names); the sandboxes model case only, never
plus-tags or other aliases, which no model could merge without a hand-made alias list.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple

DOMAIN = "shared.example.net"
_NAMES = [
    ("Dana", "Whitfield"),
    ("Kenji", "Morales"),
    ("Ines", "Okafor"),
    ("Tomas", "Lindqvist"),
    ("Priya", "Castellano"),
    ("Malik", "Brennan"),
    ("Sofia", "Nakamura"),
    ("Owen", "Ferreira"),
    ("Leila", "Novak"),
    ("Arjun", "Delacroix"),
    ("Greta", "Mbeki"),
    ("Hugo", "Sorensen"),
]


class SharedPerson(NamedTuple):
    number: int  # 0, 1, ...: which events each dataset gives them depends on it
    first_name: str
    last_name: str
    email: str  # the normalised form: lower case, no surrounding space
    rev_username: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def email_at(self, vendor: str) -> str:
        """The email as ``vendor`` serves it: Cast keeps the case of the uploaded contact list,
        Rev's user directory capitalises the domain, Webcasts.com serves it lower-case."""
        local, _, domain = self.email.partition("@")
        if vendor == "cast":
            return f"{self.first_name}.{self.last_name}{self.number}@{domain}"
        if vendor == "rev":
            return f"{local}@{domain.upper()}"
        return self.email


def shared_people(count: int) -> list[SharedPerson]:
    """The first ``count`` shared people (deterministic; names repeat with a new number)."""
    if count < 0:
        raise ValueError("shared_people must be >= 0")
    people = []
    for number in range(count):
        first, last = _NAMES[number % len(_NAMES)]
        email = f"{first.lower()}.{last.lower()}{number}@{DOMAIN}"
        username = f"{first[0].lower()}{last.lower()[:5]}{number:02d}"
        people.append(SharedPerson(number, first, last, email, username))
    return people


def add_shared_people_arg(group: argparse._ArgumentGroup) -> None:
    """``--shared-people N`` of every vendor's dataset arguments."""
    group.add_argument(
        "--shared-people",
        type=int,
        default=0,
        metavar="N",
        help="add N people who also appear in the other two vendors' data (same email "
        "once lower-cased; default 0: the default data unchanged)",
    )
