"""/peran (alias /role): admins grant and revoke organizer and admin roles, confirmed with a button. The texts and
buttons are bot/views/roles.py; the changes themselves bot/services/roles.py."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field

from telegram import Message, MessageOriginUser, Update
from telegram.constants import MessageOriginType
from telegram.error import TelegramError

from bot import i18n, menus, regions
from bot.context import Context
from bot.handlers.access import drop_keyboard, guarded
from bot.services import people, roles
from bot.views import roles as views
from bot.views.limits import MAX_ORGANIZER_SCOPES, MAX_TYPED_CODES, unique

# The codec lives with the view that builds its buttons; it is named here too, as before the views.
from bot.views.roles import CONFIRM as CONFIRM
from models import Person, Role

logger = logging.getLogger(__name__)

PENDING_KEY = "role_pending"

ACTIONS = {"beri": "grant", "grant": "grant", "tambah": "grant", "cabut": "revoke", "revoke": "revoke"}
LIST_WORDS = {"daftar", "list"}
ROLE_WORDS = {"penyelenggara": Role.ORGANIZER, "organizer": Role.ORGANIZER, "admin": Role.ADMIN}


@dataclass(frozen=True)
class RoleRequest:
    """A parsed /peran grant or revoke; the target is a Telegram id, a username, or taken from a reply."""

    action: str
    role: Role
    codes: list[str] = field(default_factory=list)
    telegram_id: int | None = None
    username: str | None = None


class RoleSyntaxError(Exception):
    """The words after /peran do not make a request; the message says what is missing."""


def parse_role_args(args: list[str], _: i18n.Gettext, locale: str = i18n.DEFAULT_LOCALE) -> RoleRequest:
    """Turn the words after /peran into a request, or raise RoleSyntaxError with a hint in the caller's language."""
    words = [part for arg in args for part in re.split(r"[,\s]+", arg) if part]
    if not words or words[0].lower() not in ACTIONS:
        raise RoleSyntaxError(views.usage(_))
    action = ACTIONS[words.pop(0).lower()]
    telegram_id = username = None
    if words and re.fullmatch(r"\d{1,15}", words[0]):
        telegram_id = int(words.pop(0))
    elif words and re.fullmatch(r"[-+]?\d+", words[0]):
        raise RoleSyntaxError(views.not_a_user_id(words[0], _))
    elif words and words[0].startswith("@"):
        username = words.pop(0)
        if not re.fullmatch(r"@[A-Za-z0-9_]{4,32}", username):
            raise RoleSyntaxError(views.not_a_username(username, _))
    if not words or words[0].lower() not in ROLE_WORDS:
        if telegram_id is None and username is None and any(word.lower() in ROLE_WORDS for word in words[1:]):
            # "/peran beri <b>x</b> penyelenggara 63.71": the role is there; it is the person who is unclear.
            raise RoleSyntaxError(views.unknown_who(words[0], _))
        raise RoleSyntaxError(views.which_role(_))
    role = ROLE_WORDS[words.pop(0).lower()]
    if role is Role.ADMIN and words:
        raise RoleSyntaxError(views.admin_without_regions(_))
    if action == "grant" and role is Role.ORGANIZER and not words:
        raise RoleSyntaxError(views.organizer_needs_regions(_))
    words = unique(words)
    if len(words) > MAX_TYPED_CODES:
        raise RoleSyntaxError(views.too_many_codes(len(words), locale, _))
    for code in words:
        if regions.get(code) is None:
            raise RoleSyntaxError(views.unknown_code(code, _))
    return RoleRequest(action=action, role=role, codes=words, telegram_id=telegram_id, username=username)


async def _target_from_reply(message: Message, context: Context) -> Person | str:
    """The person a replied-to forwarded message came from, or an explanation why there is none."""
    _ = context._
    replied = message.reply_to_message
    origin = replied.forward_origin if replied is not None else None
    if origin is None:
        return views.say_who(_)
    if origin.type == MessageOriginType.HIDDEN_USER:
        return views.hidden_sender(_)
    if not isinstance(origin, MessageOriginUser) or origin.sender_user.is_bot:
        return views.not_from_a_person(_)
    sender = origin.sender_user
    existing = await people.by_telegram_id(session=context.session, telegram_id=sender.id)
    if existing is not None:
        return existing
    return await people.record_person(
        session=context.session,
        telegram_id=sender.id,
        username=sender.username,
        first_name=sender.first_name,
        language_code=sender.language_code,
    )


async def _resolve_target(request: RoleRequest, message: Message, context: Context) -> Person | str:
    session = context.session
    if request.username is not None:
        person = await people.by_username(session=session, username=request.username)
        if person is None:
            return views.unknown_username(request.username, context._)
        return person
    if request.telegram_id is not None:
        person = await people.by_telegram_id(session=session, telegram_id=request.telegram_id)
        if person is None:
            # A role may be prepared before its holder first opens the bot.
            person = Person(telegram_id=request.telegram_id)
            session.add(person)
            await session.flush()
        return person
    return await _target_from_reply(message, context)


@guarded(Role.ADMIN)
async def role_command(update: Update, context: Context) -> None:
    """/peran: list role holders, or prepare a grant/revoke and ask for confirmation."""
    _ = context._
    message = update.effective_message
    assert message is not None and context.person is not None
    args = context.args or []
    if not args or args[0].lower() in LIST_WORDS:
        page = int(args[1]) if len(args) > 1 and re.fullmatch(r"[0-9]{1,6}", args[1]) else 1
        holders = await roles.role_holders(session=context.session)
        text = views.role_list(holders, page, context.settings.roles.bootstrap_admins, context.locale, _)
        await message.reply_text(text if args else text + "\n\n" + views.usage(_))
        return
    try:
        request = parse_role_args(args, _, context.locale)
    except RoleSyntaxError as exc:
        await message.reply_text(str(exc))
        return
    target = await _resolve_target(request, message, context)
    if isinstance(target, str):
        await message.reply_text(target)
        return
    problem = _check_request(request, target, context) or await _check_scope_size(request, target, context)
    if problem:
        await message.reply_text(problem)
        return
    assert target.id is not None
    nonce = secrets.token_urlsafe(8)
    if context.user_data is not None:
        context.user_data[PENDING_KEY] = {
            "nonce": nonce,
            "action": request.action,
            "role": str(request.role),
            "codes": request.codes,
            "person_id": target.id,
        }
    text, markup = views.confirmation(request.action, request.role, request.codes, target, nonce, context.locale, _)
    await message.reply_text(text, reply_markup=markup)


def _check_request(request: RoleRequest, target: Person, context: Context) -> str | None:
    bootstrap = context.settings.roles.bootstrap_admins
    if request.action == "revoke" and request.role is Role.ADMIN:
        if target.telegram_id in bootstrap:
            return views.bootstrap_admin(context._)
        if target.id == (context.person.id if context.person else None):
            return views.own_admin_role(context._)
    return None


async def _check_scope_size(request: RoleRequest, target: Person, context: Context) -> str | None:
    """Refuse a grant that would leave the organizer with more regions than a broadcast's query can hold."""
    if request.action != "grant" or request.role is not Role.ORGANIZER:
        return None
    held = await roles.authority_of(session=context.session, person=target, bootstrap_admins=())
    total = len(set(held.scopes) | set(request.codes))
    if total <= MAX_ORGANIZER_SCOPES:
        return None
    return views.too_many_scopes(target, total, context.locale, context._)


@guarded(Role.ADMIN)
async def role_button(update: Update, context: Context) -> None:
    """A press on Yes/Cancel under a /peran summary: only the pending request of this admin counts."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None
    pressed = views.parse_confirmation(query.data)
    pending = context.user_data.get(PENDING_KEY) if context.user_data is not None else None
    if pressed is None or pending is None or pressed.nonce != pending["nonce"]:
        await query.answer(views.stale_button(_), show_alert=True)
        await drop_keyboard(query.message)
        return
    assert context.user_data is not None
    del context.user_data[PENDING_KEY]
    await query.answer()
    if not pressed.accepted:
        await query.edit_message_text(views.cancelled(_))
        return
    subject = await people.by_id(session=context.session, person_id=pending["person_id"])
    if subject is None or subject.telegram_id is None:
        # Gone, or deleted their data (/hapusdata) since the summary was shown: no role for an erased account.
        await query.edit_message_text(views.subject_gone(_))
        return
    role = Role(pending["role"])
    change_role = roles.grant if pending["action"] == "grant" else roles.revoke
    change = await change_role(
        session=context.session, actor=context.person, subject=subject, role=role, region_codes=pending["codes"]
    )
    await query.edit_message_text(views.result(pending["action"], role, change, subject, context.locale, _))
    if change.changed:
        await _tell_subject(subject, context)


async def _tell_subject(subject: Person, context: Context) -> None:
    """Tell the person their role changed and give them the matching command menu."""
    if subject.telegram_id is None:
        return
    authority = await roles.authority_of(
        session=context.session, person=subject, bootstrap_admins=context.settings.roles.bootstrap_admins
    )
    locale = i18n.chosen_locale(subject.locale, context.settings.locale.default)
    # Someone who never opened the chat cannot be told yet; /start gives them their menu later.
    if await menus.set_chat_menu(context.bot, subject.telegram_id, authority.role, locale, context.settings):
        try:
            await context.bot.send_message(subject.telegram_id, views.told_subject(authority, locale))
        except TelegramError as exc:
            logger.warning("could not tell person %s about their role: %s", subject.id, exc)
