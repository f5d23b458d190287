"""The commitments a figure can make with a tap under a broadcast message: the kinds, their labels, the invite
ranges, and the `commitments = [...]` key of a template's metadata. Add a kind here (and to
models.CommitmentKind) and every template may offer it.

What a figure commits to is always about taking part: never a vote choice, a party or a candidate.
"""

from __future__ import annotations

import re
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


# ----------------------------------------------------------------------------------------- a typed count

# Words around a typed count that do not change it: "sekitar 20 orang.", "kurang lebih 15 org", "about 10 people".
_HEDGES = ("sekitar", "kira-kira", "kira kira", "kurang lebih", "kurleb", "±", "+-", "about", "around", "approximately")
_UNITS = ("orang", "org", "jiwa", "people", "persons", "person")
_RANGE = re.compile(r"(\d[\d.,]*)\s*(?:-|–|—|s/d|sampai|hingga|to)\s*(\d[\d.,]*)")
_NUMBER_ALONE = re.compile(r"[-+]?[\d.,\s]+")


def _count_word(text: str) -> str:
    """TEXT without what may surround a count: case, final punctuation, a hedge before it, a unit after it."""
    word = text.strip().lower().rstrip(".!?;:,)( ").strip()
    for hedge in _HEDGES:
        if word.startswith(hedge + " ") or (hedge in ("±", "+-") and word.startswith(hedge)):
            word = word.removeprefix(hedge).strip()
            break
    for unit in _UNITS:
        if word.endswith(unit):
            word = word.removesuffix(unit).strip()
            break
    return word


def parse_count(text: str) -> int | None:
    """A typed number of people ("12", "1.000", "1000 orang", "sekitar 20 org."; a range "10-20" counts its least,
    as the range buttons do), or None when it is not one in range."""
    word = _count_word(text)
    spans = _RANGE.fullmatch(word)
    if spans is not None:
        word = spans.group(1)
    digits = word.replace(".", "").replace(",", "").replace(" ", "")
    if not digits.isdigit() or len(digits) > 6:
        return None
    count = int(digits)
    return count if 1 <= count <= MAX_INVITE else None


def is_count_answer(text: str) -> bool:
    """Whether TEXT answers the count question, in range or not ("12 orang.", "0", "-5", "1.000.000", "10-20"):
    a number alone, or with the words that may surround one. Words that merely hold a number ("TPS 05 pindah ke
    mana?", "2 hari lagi kami rapat RT") are a message for the office."""
    word = _count_word(text)
    return _NUMBER_ALONE.fullmatch(word) is not None or _RANGE.fullmatch(word) is not None
