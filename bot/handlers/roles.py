"""/peran (alias /role): admins grant and revoke organizer and admin roles, confirmed with a button."""

from __future__ import annotations

import html
import logging
import re
import secrets
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageOriginUser, Update
from telegram.constants import MessageOriginType
from telegram.error import TelegramError

from bot import i18n, menus, regions
from bot.callbacks import Codec
from bot.context import Context
from bot.handlers.access import drop_keyboard, guarded
from bot.handlers.limits import MAX_ORGANIZER_SCOPES, MAX_TYPED_CODES, echo, listed, unique
from bot.services import people, roles
from models import Person, Role

logger = logging.getLogger(__name__)

# "peran:<ok|no>:<nonce>", the layout from before the codec.
CONFIRM = Codec("peran")
PENDING_KEY = "role_pending"

ACTIONS = {"beri": "grant", "grant": "grant", "tambah": "grant", "cabut": "revoke", "revoke": "revoke"}
LIST_WORDS = {"daftar", "list"}
ROLE_WORDS = {"penyelenggara": Role.ORGANIZER, "organizer": Role.ORGANIZER, "admin": Role.ADMIN}
# Bounds that keep every /peran reply under Telegram's 4,096 characters, whatever the names and scopes:
# a holder's line is at most about 240 characters, and the usage text may follow the first page.
HOLDERS_PER_PAGE = 12
SCOPES_PER_HOLDER = 5
REGION_LINES = 20


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
        raise RoleSyntaxError(usage(_))
    action = ACTIONS[words.pop(0).lower()]
    telegram_id = username = None
    if words and re.fullmatch(r"\d{1,15}", words[0]):
        telegram_id = int(words.pop(0))
    elif words and re.fullmatch(r"[-+]?\d+", words[0]):
        raise RoleSyntaxError(
            _(
                "<code>{number}</code> is not a Telegram user ID: an ID is a positive number of at most 15 digits. "
                "Ask the person to send /start to the bot and use their @username instead."
            ).format(number=echo(words[0], 20))
        )
    elif words and words[0].startswith("@"):
        username = words.pop(0)
        if not re.fullmatch(r"@[A-Za-z0-9_]{4,32}", username):
            raise RoleSyntaxError(_("{username} is not a valid Telegram username.").format(username=echo(username)))
    if not words or words[0].lower() not in ROLE_WORDS:
        raise RoleSyntaxError(
            _("Say which role: <code>penyelenggara</code> or <code>admin</code>.") + "\n\n" + usage(_)
        )
    role = ROLE_WORDS[words.pop(0).lower()]
    if role is Role.ADMIN and words:
        raise RoleSyntaxError(_("An admin acts for every region; do not give region codes for admins."))
    if action == "grant" and role is Role.ORGANIZER and not words:
        raise RoleSyntaxError(
            _("Give at least one Kemendagri region code, for example <code>63</code> or <code>63.71</code>.")
        )
    words = unique(words)
    if len(words) > MAX_TYPED_CODES:
        raise RoleSyntaxError(
            _(
                "That is {count} region codes; at most {limit} can be given at once. Please use a code higher up "
                "that covers them (for example the province <code>63</code>), or send /peran again for the rest."
            ).format(count=i18n.format_number(len(words), locale), limit=MAX_TYPED_CODES)
        )
    for code in words:
        if regions.get(code) is None:
            raise RoleSyntaxError(
                _(
                    "Region code <code>{code}</code> is not a Kemendagri code. Use codes "
                    "such as <code>63</code> (province) or <code>63.71</code> (kabupaten/kota)."
                ).format(code=echo(code, 20))
            )
    return RoleRequest(action=action, role=role, codes=words, telegram_id=telegram_id, username=username)


def usage(_: i18n.Gettext) -> str:
    return _(
        "<b>How to use /peran</b>\n"
        "/peran daftar — list everyone with a role\n"
        "/peran beri &lt;who&gt; penyelenggara &lt;region codes&gt; — make someone an organizer\n"
        "/peran beri &lt;who&gt; admin — make someone an admin\n"
        "/peran cabut &lt;who&gt; penyelenggara [region codes] — take the organizer role (all regions if none given)\n"
        "/peran cabut &lt;who&gt; admin — take the admin role\n\n"
        "&lt;who&gt; is a Telegram user ID (<code>123456789</code>) or a @username of someone who has written "
        "to this bot. You may also leave it out and send the command as a reply to a message forwarded from that "
        "person.\n"
        "Region codes are Kemendagri codes: <code>63</code> for a province, <code>63.71</code> for a "
        "kabupaten/kota."
    )


def describe(person: Person) -> str:
    """'Budi (@budi, ID 123)' with everything the person typed escaped; 'ID 123' for someone not yet seen."""
    if not person.first_name and not person.username:
        return f"ID {person.telegram_id}"
    name = html.escape(person.first_name or "")
    handle = f"@{html.escape(person.username)}, " if person.username else ""
    return f"{name} ({handle}ID {person.telegram_id})"


def describe_regions(codes: list[str] | tuple[str, ...], _: i18n.Gettext, locale: str) -> str:
    """One line per region with its full name; the first REGION_LINES of them, so the message stays short."""
    lines = []
    for code in codes[:REGION_LINES]:
        region = regions.get(code)
        lines.append(f"• <code>{code}</code> {html.escape(region.path) if region else ''}".rstrip())
    if len(codes) > REGION_LINES:
        lines.append(_("… and {count} more").format(count=i18n.format_number(len(codes) - REGION_LINES, locale)))
    return "\n".join(lines)


async def _target_from_reply(message: Message, context: Context) -> Person | str:
    """The person a replied-to forwarded message came from, or an explanation why there is none."""
    _ = context._
    replied = message.reply_to_message
    origin = replied.forward_origin if replied is not None else None
    if origin is None:
        return _("Say who: a Telegram user ID, a @username, or reply to a message forwarded from that person.")
    if origin.type == MessageOriginType.HIDDEN_USER:
        return _(
            "The sender of that forwarded message hides their account. Use their Telegram user ID or @username instead."
        )
    if not isinstance(origin, MessageOriginUser) or origin.sender_user.is_bot:
        return _(
            "That forwarded message does not come from a person. Use the person's Telegram user ID or "
            "@username instead."
        )
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
    _ = context._
    session = context.session
    if request.username is not None:
        person = await people.by_username(session=session, username=request.username)
        if person is None:
            return _(
                "Nobody called {username} has written to this bot yet. Ask them to send /start first, or "
                "use their Telegram user ID."
            ).format(username=html.escape(request.username))
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


def _confirmation_keyboard(context: Context, nonce: str) -> InlineKeyboardMarkup:
    _ = context._
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Yes, save"), callback_data=CONFIRM.data("ok", nonce)),
                InlineKeyboardButton(_("Cancel"), callback_data=CONFIRM.data("no", nonce)),
            ]
        ]
    )


@guarded(Role.ADMIN)
async def role_command(update: Update, context: Context) -> None:
    """/peran: list role holders, or prepare a grant/revoke and ask for confirmation."""
    _ = context._
    message = update.effective_message
    assert message is not None and context.person is not None
    args = context.args or []
    if not args or args[0].lower() in LIST_WORDS:
        page = int(args[1]) if len(args) > 1 and re.fullmatch(r"[0-9]{1,6}", args[1]) else 1
        text = await _role_list(context, page)
        await message.reply_text(text if args else text + "\n\n" + usage(_))
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
    await message.reply_text(
        _summary(request.action, request.role, request.codes, target, context) + "\n\n" + _("Is this correct?"),
        reply_markup=_confirmation_keyboard(context, nonce),
    )


def _check_request(request: RoleRequest, target: Person, context: Context) -> str | None:
    _ = context._
    bootstrap = context.settings.roles.bootstrap_admins
    if request.action == "revoke" and request.role is Role.ADMIN:
        if target.telegram_id in bootstrap:
            return _("This admin is set in the settings file (roles.bootstrap_admins); remove them there.")
        if target.id == (context.person.id if context.person else None):
            return _("You cannot take away your own admin role. Ask another admin.")
    return None


async def _check_scope_size(request: RoleRequest, target: Person, context: Context) -> str | None:
    """Refuse a grant that would leave the organizer with more regions than a broadcast's query can hold."""
    if request.action != "grant" or request.role is not Role.ORGANIZER:
        return None
    held = await roles.authority_of(session=context.session, person=target, bootstrap_admins=())
    total = len(set(held.scopes) | set(request.codes))
    if total <= MAX_ORGANIZER_SCOPES:
        return None
    return context._(
        "{person} would then be an organizer for {count} regions; at most {limit} are possible. Please grant a "
        "code higher up that covers several of them (for example the province <code>63</code>), or revoke some "
        "first."
    ).format(person=describe(target), count=i18n.format_number(total, context.locale), limit=MAX_ORGANIZER_SCOPES)


def _summary(action: str, role: Role, codes: list[str], target: Person, context: Context) -> str:
    _ = context._
    role_name = _("admin") if role is Role.ADMIN else _("organizer")
    if action == "grant":
        head = _("Grant the <b>{role}</b> role to {person}").format(role=role_name, person=describe(target))
    else:
        head = _("Revoke the <b>{role}</b> role from {person}").format(role=role_name, person=describe(target))
    if role is Role.ORGANIZER and codes:
        return head + " " + _("for these regions:") + "\n" + describe_regions(codes, _, context.locale)
    if role is Role.ORGANIZER:
        return head + " " + _("for all regions.")
    return head + "."


async def _role_list(context: Context, page: int = 1) -> str:
    """One page of role holders (HOLDERS_PER_PAGE), with the command for the next page."""
    _ = context._
    holders = await roles.role_holders(session=context.session)
    pages = max(1, -(-len(holders) // HOLDERS_PER_PAGE))
    page = min(max(page, 1), pages)
    lines = [_("<b>Roles in Rangkul</b>")]
    for holder in holders[(page - 1) * HOLDERS_PER_PAGE : page * HOLDERS_PER_PAGE]:
        if holder.role is Role.ADMIN:
            lines.append(_("• {person}: admin").format(person=describe(holder.person)))
        else:
            lines.append(
                _("• {person}: organizer for {regions}").format(
                    person=describe(holder.person),
                    regions=listed(holder.scopes, _, limit=SCOPES_PER_HOLDER, locale=context.locale),
                )
            )
    if not holders:
        lines.append(_("Nobody has been given a role yet."))
    if pages > 1:
        line = _("Page {page} of {pages}.").format(
            page=i18n.format_number(page, context.locale), pages=i18n.format_number(pages, context.locale)
        )
        if page < pages:
            line += " " + _("Next page: /peran daftar {next}").format(next=page + 1)
        lines.append(line)
    bootstrap = context.settings.roles.bootstrap_admins
    if bootstrap:
        ids = listed([str(i) for i in bootstrap], _, limit=SCOPES_PER_HOLDER * 2, locale=context.locale)
        lines.append(_("Admins from the settings file: {ids}").format(ids=ids))
    return "\n".join(lines)


@guarded(Role.ADMIN)
async def role_button(update: Update, context: Context) -> None:
    """A press on Yes/Cancel under a /peran summary: only the pending request of this admin counts."""
    _ = context._
    query = update.callback_query
    assert query is not None and context.person is not None
    pressed = CONFIRM.parse(query.data)
    pending = context.user_data.get(PENDING_KEY) if context.user_data is not None else None
    if pressed is None or pending is None or pressed.args != (pending["nonce"],):
        await query.answer(_("This button is no longer valid. Send /peran again."), show_alert=True)
        await drop_keyboard(query.message)
        return
    assert context.user_data is not None
    del context.user_data[PENDING_KEY]
    await query.answer()
    if pressed.action != "ok":
        await query.edit_message_text(_("Cancelled. No role was changed."))
        return
    subject = await people.by_id(session=context.session, person_id=pending["person_id"])
    if subject is None or subject.telegram_id is None:
        # Gone, or deleted their data (/hapusdata) since the summary was shown: no role for an erased account.
        await query.edit_message_text(_("That person no longer exists in Rangkul. No role was changed."))
        return
    role = Role(pending["role"])
    change_role = roles.grant if pending["action"] == "grant" else roles.revoke
    change = await change_role(
        session=context.session, actor=context.person, subject=subject, role=role, region_codes=pending["codes"]
    )
    await query.edit_message_text(_result_text(pending["action"], role, change, subject, context))
    if change.changed:
        await _tell_subject(subject, context)


def _result_text(action: str, role: Role, change: roles.RoleChange, subject: Person, context: Context) -> str:
    _ = context._
    if not change.changed:
        if action == "grant":
            return _("Nothing changed: {person} already has that role.").format(person=describe(subject))
        return _("Nothing changed: {person} did not have that role.").format(person=describe(subject))
    done = _summary(action, role, [c for c in change.changed if c], subject, context)
    return "✅ " + done + "\n" + _("Saved and recorded in the audit log.")


async def _tell_subject(subject: Person, context: Context) -> None:
    """Tell the person their role changed and give them the matching command menu."""
    if subject.telegram_id is None:
        return
    authority = await roles.authority_of(
        session=context.session, person=subject, bootstrap_admins=context.settings.roles.bootstrap_admins
    )
    locale = i18n.chosen_locale(subject.locale, context.settings.locale.default)
    _ = i18n.gettext_for(locale)
    if authority.role is Role.ADMIN:
        text = _("You are now a Rangkul <b>admin</b>. Type /bantuan to see your commands.")
    elif authority.role is Role.ORGANIZER:
        text = (
            _("You are now a Rangkul <b>organizer</b> for these regions:")
            + "\n"
            + describe_regions(authority.scopes, _, locale)
            + "\n"
            + _("Type /bantuan to see your commands.")
        )
    else:
        text = _("Your organizer or admin role in Rangkul has ended. Thank you for your work.")
    # Someone who never opened the chat cannot be told yet; /start gives them their menu later.
    if await menus.set_chat_menu(
        context.bot, subject.telegram_id, authority.role, locale, context.settings.locale.default
    ):
        try:
            await context.bot.send_message(subject.telegram_id, text)
        except TelegramError as exc:
            logger.warning("could not tell person %s about their role: %s", subject.id, exc)
