"""Registration and profile edits as a conversation kept in the database: start one, apply each answer (checked)
to the current step, and end it by saving the figure. The steps' order lives in registration_steps, the writing of
the figure in registration_save; neither builds any text (that is bot.views.registration's job)."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import regions
from bot.services import conversations
from bot.services.conversations import mark_changed
from bot.services.figure_input import (
    InputProblem,
    Problem,
    clean_name,
    clean_organization,
    normalize_contact_phone,
    normalize_phone,
)

# figure_of and Step are also read through this module by the callers that know the registration by it alone.
from bot.services.registration_save import create_figure, figure_values, update_figure
from bot.services.registration_save import figure_of as figure_of
from bot.services.registration_steps import (
    FIELDS,
    REGION_STEPS,
    first_step,
    missing_step,
    move,
    next_step,
    previous_step,
    region_codes,
    region_level,
    region_parent,
    region_path,
)
from bot.services.registration_steps import Step as Step
from models import AgeBracket, ConversationState, Figure, FigureCategory, Invitation, Person, utcnow

REGISTER = "register"
EDIT = "edit"
SKIP_WORDS = {"lewati", "skip", "-"}


class Finished(enum.StrEnum):
    SAVED = "saved"
    EDITED = "edited"
    DECLINED = "declined"
    GUARDIAN_DECLINED = "guardian_declined"
    ALREADY_REGISTERED = "already_registered"


@dataclass(frozen=True)
class Pressed:
    action: str
    arg: str = ""


@dataclass(frozen=True)
class Typed:
    text: str


@dataclass(frozen=True)
class SharedContact:
    phone: str
    own: bool


@dataclass(frozen=True)
class Agreed:
    """The person pressed "I agree" under the privacy notice shown in LOCALE, whose text has VERSION."""

    locale: str
    version: str


Event = Pressed | Typed | SharedContact | Agreed


@dataclass
class Result:
    state: ConversationState | None
    problem: Problem | None = None
    finished: Finished | None = None
    figure: Figure | None = None


# ----------------------------------------------------------------------------------------- starting


async def start_registration(
    *, session: AsyncSession, person: Person, invitation: Invitation | None = None
) -> ConversationState:
    """Begin (or begin again) a registration at the privacy notice (which notice they agree to, and in which
    language, is recorded when they agree: it is the one shown then)."""
    data: dict[str, Any] = {}
    if invitation is not None:
        codes = region_path(invitation.region_code)
        data.update(invitation_id=invitation.id, region_codes=codes, region_fixed_level=len(codes))
    return await conversations.start(session=session, person=person, flow=REGISTER, step=Step.CONSENT, data=data)


async def start_edit(*, session: AsyncSession, person: Person, figure: Figure, field: str) -> ConversationState:
    """Begin editing one field of a saved profile, with the same questions and checks as registration."""
    assert field in FIELDS
    data: dict[str, Any] = {"consent": True, "editing": field, **figure_values(figure)}
    if figure.guardian_consent_at is not None:
        data["guardian_at"] = figure.guardian_consent_at.isoformat()
    step = first_step(field, data)
    if step is None:
        raise ValueError(f"{field} cannot be edited for this person")
    return await conversations.start(session=session, person=person, flow=EDIT, step=step, data=data)


# ----------------------------------------------------------------------------------------- answers


async def answer(
    *, session: AsyncSession, person: Person, state: ConversationState, event: Event, allowed_provinces: Sequence[str]
) -> Result:
    """Apply one answer to the current step; returns the new state, a problem, or how the flow ended."""
    step = Step(state.step)
    if isinstance(event, Pressed) and event.action == "back":
        previous = previous_step(step, state.data)
        if previous is Step.SUMMARY and state.flow == EDIT:
            # Going back out of a profile edit leaves the profile as it was.
            await session.delete(state)
            return Result(None, finished=Finished.EDITED)
        if previous is Step.SUMMARY and "before_edit" in state.data:
            state.data = dict(state.data["before_edit"])
        if previous is not None:
            move(state, previous)
        return await _arrive(session=session, person=person, result=Result(state))
    if step in REGION_STEPS:
        return await _arrive(session=session, person=person, result=_answer_region(state, event, allowed_provinces))
    if step is Step.SUMMARY:
        return await _answer_summary(session=session, person=person, state=state, event=event)
    try:
        value = _parse(step, event)
    except InputProblem as problem:
        return Result(state, problem=problem.problem)
    if step is Step.CONSENT and value is False:
        await session.delete(state)
        return Result(None, finished=Finished.DECLINED)
    if step is Step.GUARDIAN_CONFIRM and value is False:
        await session.delete(state)
        return Result(None, finished=Finished.GUARDIAN_DECLINED)
    _store(step, state.data, value)
    mark_changed(state)
    move(state, next_step(step, state.data))
    return await _arrive(session=session, person=person, result=Result(state))


async def _arrive(*, session: AsyncSession, person: Person, result: Result) -> Result:
    """Back at the summary: a profile edit is saved at once; a registration shows its summary again."""
    state = result.state
    if state is None or state.step != Step.SUMMARY or result.problem is not None:
        return result
    missing = missing_step(state.data)
    if missing is not None:
        # Never show a summary (or save) with a required answer missing: ask for it instead.
        state.data.pop("before_edit", None)
        move(state, missing)
        return result
    if state.flow == EDIT:
        return await _apply_edit(session=session, person=person, state=state)
    state.data.pop("editing", None)
    state.data.pop("before_edit", None)
    mark_changed(state)
    return result


def _parse(step: Step, event: Event) -> Any:
    """The value an answer gives the step, or InputProblem."""
    if step is Step.PHONE:
        if isinstance(event, SharedContact):
            if not event.own:
                raise InputProblem(Problem.CONTACT_NOT_OWN)
            return normalize_contact_phone(event.phone)
        if isinstance(event, Pressed) and event.action == "skip":
            return None
        if isinstance(event, Typed):
            return None if event.text.strip().lower() in SKIP_WORDS else normalize_phone(event.text)
        raise InputProblem(Problem.PHONE_INVALID)
    if step is Step.ORGANIZATION:
        if isinstance(event, Pressed) and event.action == "skip":
            return None
        if isinstance(event, Typed):
            return None if event.text.strip().lower() in SKIP_WORDS else clean_organization(event.text)
        raise InputProblem(Problem.CHOOSE_BUTTON)
    if step is Step.CONSENT and isinstance(event, Agreed):
        return event
    if step in (Step.NAME, Step.GUARDIAN_NAME):
        if not isinstance(event, Typed):
            raise InputProblem(Problem.NAME_EMPTY)
        return clean_name(event.text)
    if not isinstance(event, Pressed):
        raise InputProblem(Problem.CHOOSE_BUTTON)
    choices: dict[Step, dict[str, Any]] = {
        Step.CONSENT: {"no": False},  # "yes" is an Agreed, naming the notice agreed to
        Step.GUARDIAN_CONFIRM: {"yes": True, "no": False},
        Step.CATEGORY: {c.value: c.value for c in FigureCategory},
        Step.AGE: {a.value: a.value for a in AgeBracket},
    }
    if event.action != "pick" or event.arg not in choices.get(step, {}):
        raise InputProblem(Problem.CHOOSE_BUTTON)
    return choices[step][event.arg]


def _store(step: Step, data: dict[str, Any], value: Any) -> None:
    if step is Step.CONSENT:
        data["consent"] = True
        data["consent_at"] = utcnow().isoformat()
        data["notice_version"] = value.version
        data["locale"] = value.locale
    elif step is Step.AGE:
        data["age"] = value
        if value != AgeBracket.UNDER_18:
            data["guardian_name"] = None
            data.pop("guardian_at", None)
    elif step is Step.GUARDIAN_NAME:
        data["guardian_name"] = value
        data.pop("guardian_at", None)  # a new guardian must confirm for themselves
    elif step is Step.GUARDIAN_CONFIRM:
        data["guardian_at"] = utcnow().isoformat()
    else:
        data[step.value] = value


def _answer_region(state: ConversationState, event: Event, allowed_provinces: Sequence[str]) -> Result:
    level = region_level(Step(state.step))
    parent = region_parent(state)
    if isinstance(event, Pressed) and event.action == "page":
        state.data["page"] = int(event.arg) if re.fullmatch(r"[0-9]{1,4}", event.arg) else 0
        mark_changed(state)
        state.version += 1
        return Result(state)
    if isinstance(event, Pressed) and event.action == "pick":
        region = regions.get(event.arg)
        # Only a child of the current parent (and an allowed province) can be picked, whatever the button said.
        if region is None or region.level != level or not _within(region.code, parent, allowed_provinces):
            return Result(state, problem=Problem.CHOOSE_BUTTON)
        return Result(_choose_region(state, region.code))
    if isinstance(event, Typed):
        if len(event.text.strip()) < 2:
            return Result(state, problem=Problem.REGION_QUERY_SHORT)
        found = search_regions(event.text, parent=parent, level=level, allowed_provinces=allowed_provinces)
        matches = found.all
        if not matches:
            return Result(state, problem=Problem.REGION_NOT_FOUND)
        if len(found.exact) == 1 and (not found.partial or regions.says_kind(event.text)):
            # "Kabupaten Banjar" says which one it means: not Kota Banjarmasin or Kota Banjarbaru.
            return Result(_choose_region(state, found.exact[0].code))
        if len(matches) == 1:
            return Result(_choose_region(state, matches[0].code))
        state.data["matches"] = [region.code for region in matches]
        mark_changed(state)
        state.version += 1
        return Result(state)
    return Result(state, problem=Problem.CHOOSE_BUTTON)


def _within(code: str, parent: str | None, allowed_provinces: Sequence[str]) -> bool:
    if parent is not None and not code.startswith(parent + "."):
        return False
    return not allowed_provinces or code.split(".")[0] in allowed_provinces


def _choose_region(state: ConversationState, code: str) -> ConversationState:
    level = region_level(Step(state.step))
    state.data["region_codes"] = [*region_codes(state.data)[: level - 1], code]
    mark_changed(state)
    move(state, next_step(Step(state.step), state.data))
    return state


def search_regions(
    query: str, *, parent: str | None, level: int, allowed_provinces: Sequence[str] = ()
) -> regions.Found:
    """Regions at LEVEL below PARENT whose name matches QUERY: exact names, then partial matches."""
    if len(" ".join(query.split())) < 2:
        return regions.Found(exact=[], partial=[])
    within: list[str | None] = [parent] if parent else [*allowed_provinces] or [None]
    found = regions.find(query, within=within, level=level, limit=40)

    def allowed(found_regions: list[regions.Region]) -> list[regions.Region]:
        return [region for region in found_regions if _within(region.code, parent, allowed_provinces)]

    return regions.Found(exact=allowed(found.exact), partial=allowed(found.partial))


def region_options(state: ConversationState, allowed_provinces: Sequence[str]) -> list[regions.Region]:
    """What the current region step offers as buttons: search matches, or every child of the parent."""
    matches = state.data.get("matches")
    if matches:
        return [region for code in matches if (region := regions.get(code)) is not None]
    level = region_level(Step(state.step))
    options = regions.children(region_parent(state) if level > 1 else None)
    if level == 1 and allowed_provinces:
        order = list(allowed_provinces)
        options = sorted((r for r in options if r.code in order), key=lambda r: order.index(r.code))
    return options


async def _answer_summary(*, session: AsyncSession, person: Person, state: ConversationState, event: Event) -> Result:
    if isinstance(event, Pressed) and event.action == "edit":
        first = first_step(event.arg, state.data)
        if first is None:
            return Result(state, problem=Problem.CHOOSE_BUTTON)
        # Kept so that going back out of the edit restores the answers as they were.
        state.data["before_edit"] = {k: v for k, v in state.data.items() if k != "before_edit"}
        state.data["editing"] = event.arg
        if event.arg == "region":
            state.data["region_fixed_level"] = 0  # the invitation's region may be changed too
        mark_changed(state)
        move(state, first)
        return Result(state)
    if isinstance(event, Pressed) and event.action == "save":
        missing = missing_step(state.data)
        if missing is not None:
            move(state, missing)
            return Result(state)
        return await _save(session=session, person=person, state=state)
    return Result(state, problem=Problem.CHOOSE_BUTTON)


async def _save(*, session: AsyncSession, person: Person, state: ConversationState) -> Result:
    assert person.id is not None
    existing = await figure_of(session=session, person=person)
    await session.delete(state)
    if existing is not None:
        return Result(None, finished=Finished.ALREADY_REGISTERED, figure=existing)
    figure = await create_figure(session=session, person=person, data=state.data)
    return Result(None, finished=Finished.SAVED, figure=figure)


async def _apply_edit(*, session: AsyncSession, person: Person, state: ConversationState) -> Result:
    figure = await figure_of(session=session, person=person)
    await session.delete(state)
    if figure is None:
        return Result(None, finished=Finished.EDITED)
    figure = await update_figure(session=session, person=person, figure=figure, data=state.data)
    return Result(None, finished=Finished.EDITED, figure=figure)
