"""Every bot command in one list: names and aliases, who may use it, and its menu description."""

from __future__ import annotations

from dataclasses import dataclass

from models import Role


def N_(message: str) -> str:
    """Mark MESSAGE for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    role: Role
    description: str
    # Organizers may use it too where the settings allow (/ekspor: export.organizers_allowed).
    organizers_where_allowed: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


COMMANDS: tuple[Command, ...] = (
    Command("start", (), Role.FIGURE, N_("Start and learn what Rangkul is")),
    Command("daftar", ("register",), Role.FIGURE, N_("Register as a community figure")),
    Command("profil", ("profile",), Role.FIGURE, N_("See and correct your data")),
    Command("berhenti", ("stop",), Role.FIGURE, N_("Stop receiving messages")),
    Command("lanjut", ("resume",), Role.FIGURE, N_("Receive messages again")),
    Command("dataku", ("mydata",), Role.FIGURE, N_("Download your data")),
    Command("hapusdata", ("deletedata",), Role.FIGURE, N_("Delete your data")),
    Command("komitmen", ("commitments",), Role.FIGURE, N_("Your commitments: coming to the TPS, inviting others…")),
    Command("bahasa", ("language",), Role.FIGURE, N_("Choose the language: Bahasa Indonesia or English")),
    Command("bantuan", ("help",), Role.FIGURE, N_("Commands you can use")),
    Command("batal", ("cancel",), Role.FIGURE, N_("Cancel what is in progress")),
    Command("siaran", ("broadcast",), Role.ORGANIZER, N_("Send a socialization message to figures")),
    Command("status", (), Role.ORGANIZER, N_("Recent broadcasts and their progress")),
    Command("templat", ("templates",), Role.ORGANIZER, N_("Message templates and their previews")),
    Command("balasan", ("replies",), Role.ORGANIZER, N_("Read and answer the figures' replies")),
    Command("laporan", ("report",), Role.ORGANIZER, N_("Report: figures, commitments and reach in your region")),
    Command(
        "ekspor", ("export",), Role.ADMIN, N_("Export contact lists as XLSX or CSV"), organizers_where_allowed=True
    ),
    Command("undangan", ("invite",), Role.ORGANIZER, N_("Make a registration link and QR code for a region")),
    Command("peran", ("role",), Role.ADMIN, N_("Grant or revoke organizer and admin roles")),
    Command("audit", (), Role.ADMIN, N_("The audit log: who did what, and when")),
)

_ORDER = (Role.FIGURE, Role.ORGANIZER, Role.ADMIN)


def commands_for(role: Role, *, organizers_export: bool = False) -> list[Command]:
    """The commands a person with ROLE may use, in menu order; ORGANIZERS_EXPORT: export.organizers_allowed."""

    def allowed(cmd: Command) -> bool:
        if _ORDER.index(cmd.role) <= _ORDER.index(role):
            return True
        return cmd.organizers_where_allowed and organizers_export and role is Role.ORGANIZER

    return [cmd for cmd in COMMANDS if allowed(cmd)]


def command(name: str) -> Command:
    return next(cmd for cmd in COMMANDS if cmd.name == name)
