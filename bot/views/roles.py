"""The texts and buttons of /peran: how to use it, why a request was refused, the summary to confirm with its
buttons, the list of role holders, the result, and the note to the person whose role changed."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n, regions
from bot.callbacks import Codec
from bot.services.roles import Authority, RoleChange, RoleHolder
from bot.views.limits import MAX_ORGANIZER_SCOPES, MAX_TYPED_CODES, echo, listed
from models import Person, Role

# "peran:<ok|no>:<nonce>", the layout from before the codec.
CONFIRM = Codec("peran")
# Bounds that keep every /peran reply under Telegram's 4,096 characters, whatever the names and scopes:
# a holder's line is at most about 240 characters, and the usage text may follow the first page.
HOLDERS_PER_PAGE = 12
SCOPES_PER_HOLDER = 5
REGION_LINES = 20


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


def describe_regions(codes: Sequence[str], _: i18n.Gettext, locale: str) -> str:
    """One line per region with its full name; the first REGION_LINES of them, so the message stays short."""
    lines = []
    for code in codes[:REGION_LINES]:
        region = regions.get(code)
        lines.append(f"• <code>{code}</code> {html.escape(region.path) if region else ''}".rstrip())
    if len(codes) > REGION_LINES:
        lines.append(_("… and {count} more").format(count=i18n.format_number(len(codes) - REGION_LINES, locale)))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------- what was typed


def not_a_user_id(number: str, _: i18n.Gettext) -> str:
    return _(
        "<code>{number}</code> is not a Telegram user ID: an ID is a positive number of at most 15 digits. "
        "Ask the person to send /start to the bot and use their @username instead."
    ).format(number=echo(number, 20))


def not_a_username(username: str, _: i18n.Gettext) -> str:
    return _(
        "{username} is not a valid Telegram username: a username has 5 to 32 letters, digits or underscores, for "
        "example <code>@budi_santoso</code>. Please check it, or use the person's Telegram user ID instead."
    ).format(username=echo(username))


def unknown_who(who: str, _: i18n.Gettext) -> str:
    """WHO, typed where the person goes, names nobody: it is neither a user ID nor a @username."""
    return _(
        "We do not recognise {who} as a person. Name them by their Telegram user ID (for example "
        "<code>123456789</code>) or by their @username (for example <code>@budi_santoso</code>), or leave it out "
        "and send the command as a reply to a message forwarded from them."
    ).format(who=f"<code>{echo(who, 20)}</code>")


def which_role(_: i18n.Gettext) -> str:
    return _("Say which role: <code>penyelenggara</code> or <code>admin</code>.") + "\n\n" + usage(_)


def admin_without_regions(_: i18n.Gettext) -> str:
    return _("An admin acts for every region; do not give region codes for admins.")


def organizer_needs_regions(_: i18n.Gettext) -> str:
    return _("Give at least one Kemendagri region code, for example <code>63</code> or <code>63.71</code>.")


def too_many_codes(count: int, locale: str, _: i18n.Gettext) -> str:
    return _(
        "That is {count} region codes; at most {limit} can be given at once. Please use a code higher up "
        "that covers them (for example the province <code>63</code>), or send /peran again for the rest."
    ).format(count=i18n.format_number(count, locale), limit=MAX_TYPED_CODES)


def unknown_code(code: str, _: i18n.Gettext) -> str:
    return _(
        "Region code <code>{code}</code> is not a Kemendagri code. Use codes "
        "such as <code>63</code> (province) or <code>63.71</code> (kabupaten/kota)."
    ).format(code=echo(code, 20))


# ----------------------------------------------------------------------------------------- who is meant


def say_who(_: i18n.Gettext) -> str:
    return _("Say who: a Telegram user ID, a @username, or reply to a message forwarded from that person.")


def hidden_sender(_: i18n.Gettext) -> str:
    return _(
        "The sender of that forwarded message hides their account. Use their Telegram user ID or @username instead."
    )


def not_from_a_person(_: i18n.Gettext) -> str:
    return _(
        "That forwarded message does not come from a person. Use the person's Telegram user ID or @username instead."
    )


def unknown_username(username: str, _: i18n.Gettext) -> str:
    return _(
        "Nobody called {username} has written to this bot yet. Ask them to send /start first, or "
        "use their Telegram user ID."
    ).format(username=html.escape(username))


# ----------------------------------------------------------------------------------------- refusals


def bootstrap_admin(_: i18n.Gettext) -> str:
    return _("This admin is set in the settings file (roles.bootstrap_admins); remove them there.")


def own_admin_role(_: i18n.Gettext) -> str:
    return _("You cannot take away your own admin role. Ask another admin.")


def too_many_scopes(target: Person, total: int, locale: str, _: i18n.Gettext) -> str:
    return _(
        "{person} would then be an organizer for {count} regions; at most {limit} are possible. Please grant a "
        "code higher up that covers several of them (for example the province <code>63</code>), or revoke some "
        "first."
    ).format(person=describe(target), count=i18n.format_number(total, locale), limit=MAX_ORGANIZER_SCOPES)


# ----------------------------------------------------------------------------------------- confirmation


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A press under a /peran summary: "Yes, save" (ACCEPTED) or anything else, for the request with NONCE."""

    accepted: bool
    nonce: str


def summary(action: str, role: Role, codes: Sequence[str], target: Person, locale: str, _: i18n.Gettext) -> str:
    """What a grant or revoke does, in one sentence, with the regions it concerns."""
    role_name = _("admin") if role is Role.ADMIN else _("organizer")
    if action == "grant":
        head = _("Grant the <b>{role}</b> role to {person}").format(role=role_name, person=describe(target))
    else:
        head = _("Revoke the <b>{role}</b> role from {person}").format(role=role_name, person=describe(target))
    if role is Role.ORGANIZER and codes:
        return head + " " + _("for these regions:") + "\n" + describe_regions(codes, _, locale)
    if role is Role.ORGANIZER:
        return head + " " + _("for all regions.")
    return head + "."


def confirmation(
    action: str, role: Role, codes: Sequence[str], target: Person, nonce: str, locale: str, _: i18n.Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """The summary of a prepared request, asked to be confirmed with the buttons for its NONCE."""
    text = summary(action, role, codes, target, locale, _) + "\n\n" + _("Is this correct?")
    return text, confirmation_keyboard(nonce, _)


def confirmation_keyboard(nonce: str, _: i18n.Gettext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Yes, save"), callback_data=CONFIRM.data("ok", nonce)),
                InlineKeyboardButton(_("Cancel"), callback_data=CONFIRM.data("no", nonce)),
            ]
        ]
    )


def parse_confirmation(data: object) -> Confirmation | None:
    """What a confirmation button says, or None for data we did not make (never raises)."""
    pressed = CONFIRM.parse(data)
    if pressed is None or len(pressed.args) != 1:
        return None
    return Confirmation(accepted=pressed.action == "ok", nonce=pressed.args[0])


def stale_button(_: i18n.Gettext) -> str:
    return _("This button is no longer valid. Send /peran again.")


def cancelled(_: i18n.Gettext) -> str:
    return _("Cancelled. No role was changed.")


def subject_gone(_: i18n.Gettext) -> str:
    return _("That person no longer exists in Rangkul. No role was changed.")


def result(action: str, role: Role, change: RoleChange, subject: Person, locale: str, _: i18n.Gettext) -> str:
    """What a confirmed request changed (perhaps nothing)."""
    if not change.changed:
        if action == "grant":
            return _("Nothing changed: {person} already has that role.").format(person=describe(subject))
        return _("Nothing changed: {person} did not have that role.").format(person=describe(subject))
    done = summary(action, role, [c for c in change.changed if c], subject, locale, _)
    return "✅ " + done + "\n" + _("Saved and recorded in the audit log.")


def told_subject(authority: Authority, locale: str) -> str:
    """The note to the person whose role changed, in their own language LOCALE, naming the role they hold now."""
    _ = i18n.gettext_for(locale)
    if authority.role is Role.ADMIN:
        return _("You are now a Rangkul <b>admin</b>. Type /bantuan to see your commands.")
    if authority.role is Role.ORGANIZER:
        return (
            _("You are now a Rangkul <b>organizer</b> for these regions:")
            + "\n"
            + describe_regions(authority.scopes, _, locale)
            + "\n"
            + _("Type /bantuan to see your commands.")
        )
    return _("Your organizer or admin role in Rangkul has ended. Thank you for your work.")


# ----------------------------------------------------------------------------------------- /peran daftar


def role_list(
    holders: Sequence[RoleHolder], page: int, bootstrap_admins: Sequence[int], locale: str, _: i18n.Gettext
) -> str:
    """One page of role holders (HOLDERS_PER_PAGE; PAGE kept within range), with the command for the next page."""
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
                    regions=listed(holder.scopes, _, limit=SCOPES_PER_HOLDER, locale=locale),
                )
            )
    if not holders:
        lines.append(_("Nobody has been given a role yet."))
    if pages > 1:
        line = _("Page {page} of {pages}.").format(
            page=i18n.format_number(page, locale), pages=i18n.format_number(pages, locale)
        )
        if page < pages:
            line += " " + _("Next page: /peran daftar {next}").format(next=page + 1)
        lines.append(line)
    if bootstrap_admins:
        ids = listed([str(i) for i in bootstrap_admins], _, limit=SCOPES_PER_HOLDER * 2, locale=locale)
        lines.append(_("Admins from the settings file: {ids}").format(ids=ids))
    return "\n".join(lines)
