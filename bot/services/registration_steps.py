"""The questions of registration and of a profile edit: their order, which apply to whom, and where each field's
edit starts and ends. Pure functions of the answers so far (a conversation's data); nothing here is saved."""

from __future__ import annotations

import enum
from typing import Any

from bot.services.conversations import mark_changed
from models import AgeBracket, ConversationState, FigureCategory, utcnow


class Step(enum.StrEnum):
    CONSENT = "consent"
    NAME = "name"
    CATEGORY = "category"
    AGE = "age"
    GUARDIAN_NAME = "guardian_name"
    GUARDIAN_CONFIRM = "guardian_confirm"
    PROVINCE = "province"
    REGENCY = "regency"
    DISTRICT = "district"
    VILLAGE = "village"
    PHONE = "phone"
    ORGANIZATION = "organization"
    SUMMARY = "summary"


ORDER = tuple(Step)
REGION_STEPS = (Step.PROVINCE, Step.REGENCY, Step.DISTRICT, Step.VILLAGE)
# What "edit <field>" on the summary or the profile walks through before coming back.
FIELDS: dict[str, tuple[Step, ...]] = {
    "name": (Step.NAME,),
    "category": (Step.CATEGORY,),
    "age": (Step.AGE, Step.GUARDIAN_NAME, Step.GUARDIAN_CONFIRM),
    "guardian": (Step.GUARDIAN_NAME, Step.GUARDIAN_CONFIRM),
    "region": REGION_STEPS,
    "phone": (Step.PHONE,),
    "organization": (Step.ORGANIZATION,),
}


def region_level(step: Step) -> int:
    return REGION_STEPS.index(step) + 1


def applies(step: Step, data: dict[str, Any]) -> bool:
    if step in (Step.GUARDIAN_NAME, Step.GUARDIAN_CONFIRM):
        return bool(data.get("age") == AgeBracket.UNDER_18)
    if step in REGION_STEPS:
        return region_level(step) > int(data.get("region_fixed_level", 0))
    if step is Step.CONSENT:
        return "consent" not in data
    return True


def next_step(step: Step, data: dict[str, Any]) -> Step:
    editing = data.get("editing")
    for candidate in ORDER[ORDER.index(step) + 1 :]:
        if editing and candidate not in FIELDS[editing]:
            return Step.SUMMARY
        if applies(candidate, data):
            return candidate
    return Step.SUMMARY


def previous_step(step: Step, data: dict[str, Any]) -> Step | None:
    editing = data.get("editing")
    for candidate in reversed(ORDER[: ORDER.index(step)]):
        if editing and candidate not in FIELDS[editing]:
            return Step.SUMMARY
        if candidate is not Step.CONSENT and applies(candidate, data):
            return candidate
    return None


def first_step(field: str, data: dict[str, Any]) -> Step | None:
    """Where editing FIELD starts; None when the field does not apply (a guardian for an adult)."""
    if field not in FIELDS or (field == "guardian" and data.get("age") != AgeBracket.UNDER_18):
        return None
    return next(s for s in FIELDS[field] if field == "region" or applies(s, data))


def missing_step(data: dict[str, Any]) -> Step | None:
    """The first required answer that is missing, so nothing incomplete is ever saved."""
    required = {
        Step.NAME: bool(data.get("name")),
        Step.CATEGORY: data.get("category") in {c.value for c in FigureCategory},
        Step.AGE: data.get("age") in {a.value for a in AgeBracket},
        Step.GUARDIAN_NAME: bool(data.get("guardian_name")),
        Step.GUARDIAN_CONFIRM: bool(data.get("guardian_at")),
        Step.PROVINCE: len(region_codes(data)) >= 1,
        Step.REGENCY: len(region_codes(data)) >= 2,
        Step.DISTRICT: len(region_codes(data)) >= 3,
        Step.VILLAGE: len(region_codes(data)) >= 4,
    }
    for step, present in required.items():
        if not present and (step not in (Step.GUARDIAN_NAME, Step.GUARDIAN_CONFIRM) or applies(step, data)):
            return step
    return None


def can_go_back(state: ConversationState) -> bool:
    return previous_step(Step(state.step), state.data) is not None


def region_codes(data: dict[str, Any]) -> list[str]:
    return list(data.get("region_codes", []))


def region_path(code: str) -> list[str]:
    """The codes from the province down to CODE: "63.03.01" gives "63", "63.03", "63.03.01"."""
    parts = code.split(".")
    return [".".join(parts[: level + 1]) for level in range(len(parts))]


def region_parent(state: ConversationState) -> str | None:
    """The region whose children the current region step offers (None: the provinces)."""
    level = region_level(Step(state.step))
    codes = region_codes(state.data)
    return codes[level - 2] if level > 1 and len(codes) >= level - 1 else None


def move(state: ConversationState, step: Step) -> None:
    """Go to STEP; the new version makes the previous question's buttons stale."""
    state.step = step
    state.version += 1
    state.data.pop("page", None)
    state.data.pop("matches", None)
    mark_changed(state)
    state.updated_at = utcnow()
