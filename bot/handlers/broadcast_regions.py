"""The composer's recipient-region step (/siaran, step 3): what a press or a typed answer does to the draft. The
choosing itself is bot/services/region_picker.py; the question and its refusals are bot/views/broadcast_regions.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.context import Context
from bot.services import conversations, region_picker
from bot.services.region_picker import Picker, Problem, Refusal
from bot.views import broadcast_regions as views
from bot.views.limits import MAX_TYPED_CODES
from models import ConversationState

ACTIONS = frozenset({"all", "open", "pick", "page", "up", "review", "done"})


@dataclass(frozen=True)
class Outcome:
    """What a press did: refused (PROBLEM says why), redrawn in place, or DONE (go on to the categories)."""

    problem: str | None = None
    done: bool = False


def picker_of(state: ConversationState, context: Context) -> Picker:
    data = state.data.get("picker")
    return Picker.from_dict(data) if data else region_picker.start(context.authority)


def _keep(state: ConversationState, picker: Picker) -> None:
    """Store the draft and step the version on, so the buttons shown before this change are no longer valid."""
    state.data["picker"] = picker.to_dict()
    state.version += 1
    conversations.mark_changed(state)


def _problem(problem: Problem, context: Context) -> str:
    return views.problem_text(problem, context.authority, context.locale, context._)


def press(state: ConversationState, action: str, arg: str, context: Context) -> Outcome:
    """A button of the region question (its version already checked); every region in it is checked again."""
    authority = context.authority
    picker = picker_of(state, context)
    problem: Problem | None = None
    if action == "all":
        picker.picked = []
        state.data["picker"] = picker.to_dict()
        return Outcome(done=True)
    if action == "done":
        problem = region_picker.still_allowed(picker, authority) or (None if picker.picked else Problem(Refusal.CHOOSE))
        if problem is None:
            state.data["picker"] = picker.to_dict()
            return Outcome(done=True)
    elif action == "open":
        problem = region_picker.open_region(picker, arg, authority)
    elif action == "pick":
        problem = region_picker.toggle(picker, arg, authority, limit=MAX_TYPED_CODES)
    elif action == "page":
        region_picker.turn_page(picker, arg)
    elif action == "up":
        region_picker.go_up(picker, authority)
    elif action == "review":
        problem = region_picker.review(picker)
    else:
        problem = Problem(Refusal.CHOOSE)
    if problem is not None:
        return Outcome(problem=_problem(problem, context))
    _keep(state, picker)
    return Outcome()


def typed(state: ConversationState, text: str, context: Context) -> str | None:
    """Typed names or codes at the region question: chosen, offered as buttons, or refused (the text says why)."""
    picker = picker_of(state, context)
    problem = region_picker.type_in(text, picker, context.authority, limit=MAX_TYPED_CODES)
    if problem is not None:
        return _problem(problem, context)
    _keep(state, picker)
    return None


def reopen(state: ConversationState, context: Context) -> None:
    """Back at the region question from the preview: the regions chosen stay, the drill-down starts over."""
    picker = picker_of(state, context)
    state.data["picker"] = Picker(picked=picker.picked, browse=region_picker.root(context.authority)).to_dict()
