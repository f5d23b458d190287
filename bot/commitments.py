"""The commitments a figure can make with a tap under a broadcast message: the kinds, their labels, the invite
ranges, and the `commitments = [...]` key of a template's metadata. Add a kind here (and to
models.CommitmentKind) and every template may offer it.

What a figure commits to is always about taking part: never a vote choice, a party or a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import Codec
from bot.commands import N_
from models import CommitmentKind

# cm:c:<broadcast>:<kind> tap · cm:w:<broadcast>:<kind> withdraw (confirmed) · cm:k:<broadcast> keep ·
# cm:n:<broadcast>:<range> how many people (after "ajak") · cm:a:<broadcast> change how many.
COMMITMENT = Codec("cm")
METADATA_KEY = "commitments"
MAX_INVITE = 10_000  # a typed number of people to invite: 1 to this


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of commitment: its button label and its short name in reports (English msgids, translated where
    they are shown) and, for the invite, that it asks how many people."""

    kind: CommitmentKind
    label: str
    short: str
    counted: bool = False


KINDS: dict[str, Kind] = {
    spec.kind.value: spec
    for spec in (
        Kind(CommitmentKind.VOTE, N_("I will come to the TPS to vote"), N_("coming to the TPS")),
        Kind(CommitmentKind.INVITE, N_("I will invite … people"), N_("inviting others"), counted=True),
        Kind(CommitmentKind.NO_MONEY_POLITICS, N_("I refuse money politics"), N_("refusing money politics")),
        Kind(CommitmentKind.FIGHT_HOAXES, N_("I am ready to fight hoaxes"), N_("fighting hoaxes")),
        Kind(CommitmentKind.VOLUNTEER, N_("I am ready to be a democracy volunteer"), N_("volunteering")),
    )
}
# The label of the invite once the number is known ({count} people).
INVITE_LABEL_COUNTED = N_("I will invite {count} people")
INVITE_LABEL_MORE = N_("I will invite more than 25 people")

# The follow-up choices after "ajak": button code → (label msgid, the count stored: the lower end of the range,
# the least the figure promised; the code is stored too, so the label shows the range chosen).
INVITE_RANGES: dict[str, tuple[str, int]] = {
    "1-5": (N_("1–5 people"), 1),
    "6-10": (N_("6–10 people"), 6),
    "11-25": (N_("11–25 people"), 11),
    "26+": (N_("more than 25"), 26),
}
MORE_THAN_CODE = "26+"


def kind(value: str) -> Kind | None:
    return KINDS.get(value)


def parse_kinds(raw: object) -> tuple[tuple[str, ...], list[str]]:
    """The kinds a template's `commitments` metadata declares, in its order, and the problems found (an unknown
    or repeated kind is left out and reported; `rangkul templates check` prints the report)."""
    if raw is None:
        return (), []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        return (), [f'{METADATA_KEY} must be a list of kinds, e.g. {METADATA_KEY} = ["tps", "ajak"]']
    kinds: list[str] = []
    problems: list[str] = []
    for item in raw:
        if item not in KINDS:
            problems.append(f"{METADATA_KEY}: unknown kind {item!r} (use one of {', '.join(KINDS)})")
        elif item in kinds:
            problems.append(f"{METADATA_KEY}: {item!r} is listed twice")
        else:
            kinds.append(item)
    return tuple(kinds), problems
