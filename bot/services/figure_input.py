"""What a figure types into their profile, checked and normalized: names, phone numbers, organizations."""

from __future__ import annotations

import enum
import re
import unicodedata

import phonenumbers

NAME_MIN, NAME_MAX, ORGANIZATION_MAX = 2, 100, 120


class Problem(enum.StrEnum):
    """Why an answer was not accepted; the handler words it for the person."""

    NAME_EMPTY = "name_empty"
    NAME_LENGTH = "name_length"
    NAME_COMMAND = "name_command"
    NAME_LINK = "name_link"
    NAME_CHARACTERS = "name_characters"
    # Blank-looking: Hangul fillers, zero-width characters, or marks stacked on one letter.
    INVISIBLE = "invisible"
    PHONE_INVALID = "phone_invalid"
    PHONE_NOT_MOBILE = "phone_not_mobile"
    CONTACT_NOT_OWN = "contact_not_own"
    ORGANIZATION_LENGTH = "organization_length"
    REGION_NOT_FOUND = "region_not_found"
    REGION_QUERY_SHORT = "region_query_short"
    ORGANIZATION_INVALID = "organization_invalid"
    CHOOSE_BUTTON = "choose_button"


class InputProblem(ValueError):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


_LINK = re.compile(r"(https?://|www\.|t\.me/|@\w|\.(com|id|net|org|me)\b)", re.IGNORECASE)
_NAME_PUNCTUATION = set(" .,'’-`")


# Letters (category Lo) or symbols that draw nothing: Hangul fillers and the braille blank. With format characters
# (zero-width spaces and joiners, direction marks) they make a name that looks blank in every list.
_BLANK_CHARACTERS = frozenset("\u3164\u115f\u1160\uffa0\u2800")
# Enough for any real name (a letter with two accents); more is "Zalgo" text stacked over the lines around it.
MAX_MARKS_PER_LETTER = 2


def visible_text(text: str) -> str:
    """TEXT (NFC) without the characters that show as nothing."""
    normalized = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in normalized if ch not in _BLANK_CHARACTERS and unicodedata.category(ch) != "Cf")


def _stacked_marks(text: str) -> bool:
    """True when a combining mark has no letter to sit on, or more than MAX_MARKS_PER_LETTER sit on one."""
    run = 0
    previous_is_base = False
    for ch in text:
        if unicodedata.category(ch).startswith("M"):
            run += 1
            if not previous_is_base or run > MAX_MARKS_PER_LETTER:
                return True
        else:
            run = 0
            previous_is_base = not ch.isspace()
    return False


def _letters(text: str) -> int:
    return sum(unicodedata.category(ch).startswith("L") for ch in text)


def clean_name(text: str) -> str:
    """A person's name: 2-100 characters of letters, spaces and . , ' - after trimming, at least two of them
    visible letters (blank characters are dropped, stacked marks refused)."""
    raw = " ".join(text.split())
    name = " ".join(visible_text(text).split())
    if not name:
        raise InputProblem(Problem.INVISIBLE if raw else Problem.NAME_EMPTY)
    if _stacked_marks(name):
        raise InputProblem(Problem.INVISIBLE)
    if name.startswith("/"):
        raise InputProblem(Problem.NAME_COMMAND)
    if _LINK.search(name):
        raise InputProblem(Problem.NAME_LINK)
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise InputProblem(Problem.NAME_LENGTH)
    if not all(ch.isalpha() or ch in _NAME_PUNCTUATION or unicodedata.category(ch) == "Mn" for ch in name):
        raise InputProblem(Problem.NAME_CHARACTERS)
    if _letters(name) < NAME_MIN:
        raise InputProblem(Problem.INVISIBLE if _letters(raw) >= NAME_MIN else Problem.NAME_LENGTH)
    return name


def _mobile_e164(number: phonenumbers.PhoneNumber) -> str:
    if not phonenumbers.is_valid_number(number):
        raise InputProblem(Problem.PHONE_INVALID)
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise InputProblem(Problem.PHONE_NOT_MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(text: str) -> str:
    """A typed number ('0812-3456-7890', '+62 812…', '62812…') as E.164; only valid mobile numbers."""
    try:
        number = phonenumbers.parse(text.strip(), "ID")
    except phonenumbers.NumberParseException as exc:
        raise InputProblem(Problem.PHONE_INVALID) from exc
    return _mobile_e164(number)


def normalize_contact_phone(phone: str) -> str:
    """A number from a shared Telegram contact: international, often without '+' (see DOMAIN.md)."""
    digits = phone.strip()
    if not digits.startswith("+"):
        digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException as exc:
        raise InputProblem(Problem.PHONE_INVALID) from exc
    return _mobile_e164(number)


def clean_organization(text: str) -> str:
    organization = " ".join(visible_text(text).split())
    if not organization:
        raise InputProblem(Problem.INVISIBLE if text.strip() else Problem.NAME_EMPTY)
    if _stacked_marks(organization) or not any(ch.isalnum() for ch in organization):
        raise InputProblem(Problem.INVISIBLE)
    if organization.startswith("/") or _LINK.search(organization):
        raise InputProblem(Problem.ORGANIZATION_INVALID)
    if len(organization) > ORGANIZATION_MAX:
        raise InputProblem(Problem.ORGANIZATION_LENGTH)
    return organization
