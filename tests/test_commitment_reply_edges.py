"""Edges of commitments, replies and reports found by an independent review: each test reproduced a defect
before its fix (forged ids too big for the database, a typo sent as the office's answer, replies swallowed by
the count question, kinds checked against today's template, exact times kept after /hapusdata, …)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.services import reports
from bot.services.roles import Authority
from bot.views import report as report_views
from bot.views.replies import REPLIES
from models import Commitment, CommitmentEvent, Figure, Reply, Role
from tests.conftest import Harness
from tests.test_broadcast import make_figures, make_organizer
from tests.test_commitments import INVITE, VOTE, age_commitments, answered, broadcast_message, labels, send_broadcast

ORGANIZER = 500


async def _replies(harness: Harness) -> list[Reply]:
    async with harness.app.bot_data.sessions() as session:
        return list((await session.exec(select(Reply).order_by(col(Reply.id)))).all())


# 1. An organizer writing an answer who types an unknown command (a typo of /batal, /stop …): it goes to the
# figure as the office's answer.
async def test_unknown_command_while_answering_is_not_sent_to_the_figure(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "Apakah KTP lama masih bisa dipakai?")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✍️ Jawab 1")
    before = len(harness.fake.sent_texts(figure_user))
    await harness.send(ORGANIZER, "/batl")  # a typo of /batal
    sent = harness.fake.sent_texts(figure_user)[before:]
    assert sent == [], sent
    [reply] = await _replies(harness)
    assert reply.answer_text is None, reply.answer_text


# 2. Forged reply ids that do not fit in an integer column: the press must get a polite answer, not an exception.
async def test_a_huge_reply_id_is_refused_politely(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "halo")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    errors_before = len(harness.fake.callback_answers)
    await harness.press_data(ORGANIZER, listing, REPLIES.data("read", "9" * 30, 0))
    answers = harness.fake.callback_answers[errors_before:]
    assert answers and "wilayah Anda" in (answers[-1].get("text") or ""), answers


async def test_a_huge_page_number_is_harmless(harness: Harness) -> None:
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "halo")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    before = len(harness.fake.callback_answers)
    await harness.press_data(ORGANIZER, listing, REPLIES.data("page", "9" * 30))
    assert len(harness.fake.callback_answers) > before


async def test_a_huge_broadcast_id_in_a_commitment_press(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3000, 1)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    before = len(harness.fake.callback_answers)
    await harness.press_data(figure, message, "cm:c:999999999999999999:tps")  # 18 digits: passes the length check
    assert len(harness.fake.callback_answers) > before
    assert "tidak berlaku" in answered(harness)


# 3. /hapusdata: commitments keep their exact time (committed_at, every event's occurred_at) although the notice
# promises only "dates without the time of day" remain; and /dataku does not contain them at all.
async def test_my_data_lists_commitments(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3000, 1)
    await send_broadcast(harness)
    await harness.press(figure, broadcast_message(harness, figure), VOTE)
    await harness.send(figure, "/dataku")
    export = next(m for m in reversed(harness.fake.chat(figure).messages) if m.document is not None)
    assert export.document is not None
    data = json.loads(export.document.content)
    [commitment] = data["commitments"]
    assert commitment["kind"] == "tps" and [event["action"] for event in commitment["history"]] == ["commit"]


async def test_deleted_data_keeps_no_exact_time_of_commitments(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3000, 1)
    await send_broadcast(harness)
    await harness.press(figure, broadcast_message(harness, figure), VOTE)
    [question] = await harness.send(figure, "/hapusdata")
    await harness.press(figure, question, "Ya, hapus data saya")
    async with harness.app.bot_data.sessions() as session:
        commitments = (await session.exec(select(Commitment))).all()
        events = (await session.exec(select(CommitmentEvent))).all()
    times = [c.committed_at for c in commitments] + [e.occurred_at for e in events]
    exact = [t for t in times if (t.hour, t.minute, t.second, t.microsecond) != (t.hour, 0, 0, 0)]
    assert exact == [], exact


# 4. A kecamatan organizer's report (by desa): a deleted figure's commitments show under the kecamatan's name as
# if it were one of the desa, and add commitments to a "region" with no figures.
async def test_commitments_by_region_only_names_regions_of_the_level(harness: Harness) -> None:
    [kept, gone] = await make_figures(harness, 3000, 2, "63.71.05.1003")
    await send_broadcast(harness)
    await harness.press(kept, broadcast_message(harness, kept), VOTE)
    await harness.press(gone, broadcast_message(harness, gone), VOTE)
    [question] = await harness.send(gone, "/hapusdata")
    await harness.press(gone, question, "Ya, hapus data saya")
    async with harness.app.bot_data.sessions() as session:
        report = await reports.build(session=session, authority=Authority(role=Role.ORGANIZER, scopes=("63.71.05",)))
    assert report.scope.level == 4
    assert all(len(code) in (0, 13) for code in report.commitments_by_region), report.commitments_by_region
    # The deleted figure's commitment still counts, in a line of its own, never as a desa.
    assert report.figures == 1 and report.commitments == 2, (report.figures, report.commitments)
    assert report.commitments_by_region[reports.UNPLACED] == {"tps": 1}


# 5. The range "1–5 orang" is stored as 5 and shown back to the figure as "Saya akan mengajak 5 orang": the figure
# never said 5.
async def test_a_range_choice_is_shown_as_the_range(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3300, 1)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    await harness.press(figure, message, INVITE)
    question = harness.last(figure)
    await harness.press(figure, question, "1–5 orang")
    assert labels(message)[1] == "✅ Saya akan mengajak 1–5 orang", labels(message)


# 6. After tapping "ajak", a figure's ordinary reply to the broadcast is swallowed by the count question.
async def test_a_reply_while_the_count_question_waits_is_not_lost(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3300, 1)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    await harness.press(figure, message, INVITE)
    await harness.feed(harness.fake.reply_to(figure, message.message_id, "Insya Allah, keluarga besar kami ikut"))
    shown = harness.last(figure).shown
    assert "teruskan" in shown, shown
    [reply] = await _replies(harness)
    assert reply.text == "Insya Allah, keluarga besar kami ikut" and reply.broadcast_id is not None


# 7. A figure who stopped messages cannot withdraw a commitment they made (the withdrawal is theirs to make).
async def test_an_opted_out_figure_can_withdraw(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3200, 1)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    await harness.press(figure, message, VOTE)
    await age_commitments(harness)
    await harness.press(figure, message, f"✅ {VOTE}")
    await harness.send(figure, "/berhenti")
    await harness.press(figure, message, f"↩️ Tarik “{VOTE}”")
    async with harness.app.bot_data.sessions() as session:
        [row] = (await session.exec(select(Commitment))).all()
    assert row.withdrawn_at is not None, answered(harness)


# 8. The report text lists commitments of the five largest regions only, with no line for the rest: the
# region lines do not add up to the total.
async def test_commitment_region_lines_add_up(harness: Harness) -> None:
    desa = ["63.71.01.1001", "63.72.02.1003", "63.01.01.2001", "63.02.01.2001", "63.03.01.2001", "63.04.01.2001"]
    users = []
    for index, code in enumerate(desa):
        users += await make_figures(harness, 3000 + index * 10, 1, code)
    await send_broadcast(harness)
    for user in users:
        await harness.press(user, broadcast_message(harness, user), VOTE)
    async with harness.app.bot_data.sessions() as session:
        report = await reports.build(session=session, authority=Authority(role=Role.ORGANIZER, scopes=("63",)))
    settings = harness.app.bot_data.settings
    text = report_views.text(report, templates_dir=settings.templates.dir, tz=settings.tz, locale="id")
    section = text.split("Komitmen aktif")[1].split("Balasan dari tokoh")[0]
    region_lines = [line for line in section.splitlines() if line.startswith("• ") and "(" in line]
    assert len(region_lines) == 5 and "• 1 wilayah lainnya: 1 komitmen" in section, section


async def test_a_huge_broadcast_id_in_a_status_control_press(harness: Harness) -> None:
    """bc:pause:<12 digits> passes parse_control's length check; on PostgreSQL the id is out of int32 range."""
    await make_organizer(harness, ORGANIZER, "63.71")
    [hello] = await harness.send(ORGANIZER, "/status")
    before = len(harness.fake.callback_answers)
    await harness.press_data(ORGANIZER, hello, "bc:pause:999999999999")
    answers = harness.fake.callback_answers[before:]
    assert answers and "gangguan" not in (answers[-1].get("text") or ""), answers


async def test_a_kind_added_to_the_template_after_sending_is_not_accepted_on_old_messages(
    harness: Harness, tmp_path: Path
) -> None:
    """The message went out with [tps, ajak]; the template later gains "relawan". A forged press of relawan on
    the old message must be refused (the message never carried it), and the old kinds still work."""
    from bot.services import commitments as service

    [figure_user] = await make_figures(harness, 3000, 1)
    broadcast_id = await send_broadcast(harness)
    message = broadcast_message(harness, figure_user)
    edited = tmp_path / "templates"
    shutil.copytree(harness.app.bot_data.settings.templates.dir, edited)
    path = edited / "id" / "ayo_ke_tps.html"
    path.write_text(path.read_text().replace('commitments = ["tps", "ajak"]', 'commitments = ["tps", "relawan"]'))
    service._offered.clear()
    async with harness.app.bot_data.sessions() as session:
        figure = (await session.exec(select(Figure))).one()
        forged = await service.check_press(
            session=session,
            templates_dir=edited,
            figure=figure,
            broadcast_arg=broadcast_id,
            kind="relawan",
            message_id=message.message_id,
        )
        real = await service.check_press(
            session=session,
            templates_dir=edited,
            figure=figure,
            broadcast_arg=broadcast_id,
            kind="ajak",
            message_id=message.message_id,
        )
    assert forged == service.Refusal.NOT_OFFERED and not isinstance(real, service.Refusal), (forged, real)


async def test_answering_twice_keeps_both_answers(harness: Harness) -> None:
    """A stale ✍️ on an old /balasan page answers an already answered reply again; the first answer is
    overwritten in the database (the figure got two)."""
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "Kapan pemutakhiran data?")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✍️ Jawab 1")
    await harness.send(ORGANIZER, "Jawaban pertama")
    await harness.press_data(ORGANIZER, listing, REPLIES.data("answer", 1))
    await harness.send(ORGANIZER, "Jawaban kedua")
    answers = [t for t in harness.fake.sent_texts(figure_user) if "Jawaban pertama" in t or "Jawaban kedua" in t]
    [reply] = await _replies(harness)
    assert len(answers) == 1 and reply.answer_text == "Jawaban pertama", (len(answers), reply.answer_text)
    assert "sudah dijawab" in answered(harness)


async def test_choosing_a_language_while_answering_a_reply(harness: Harness) -> None:
    """/bahasa while an answer is being written: the reply_answer conversation is handed to registration.ask."""
    await make_organizer(harness, ORGANIZER, "63.71")
    [figure_user] = await make_figures(harness, 4000, 1)
    await harness.send(figure_user, "Kapan pemutakhiran data?")
    [listing] = await harness.send(ORGANIZER, "/balasan")
    await harness.press(ORGANIZER, listing, "✍️ Jawab 1")
    [menu] = await harness.send(ORGANIZER, "/bahasa")
    await harness.press(ORGANIZER, menu, "English")
    shown = [m.shown for m in harness.fake.chat(ORGANIZER).messages[-3:]]
    answers = [a.get("text") for a in harness.fake.callback_answers]
    assert not any("gangguan" in (a or "") or "went wrong" in (a or "") for a in answers), answers
    assert not any("went wrong" in s or "gangguan" in s for s in shown), shown
    # The question asked again in the language just chosen.
    assert "Type your answer to" in shown[-1], shown


async def test_my_commitments_count_is_the_real_count(harness: Harness) -> None:
    """/komitmen says "(30)" for a figure holding 36 commitments, and shows no hint that more exist."""
    import hashlib  # noqa: F401

    [figure_user] = await make_figures(harness, 3000, 1)
    for _ in range(12):
        await send_broadcast(harness)
    async with harness.app.bot_data.sessions() as session:
        figure = (await session.exec(select(Figure))).one()
        from models import Broadcast

        for broadcast in (await session.exec(select(Broadcast))).all():
            for kind in ("tps", "ajak", "relawan"):
                session.add(Commitment(figure_id=figure.id, broadcast_id=broadcast.id, kind=kind, template_version="x"))
        await session.commit()
    [listing] = await harness.send(figure_user, "/komitmen")
    assert "(36)" in listing.shown, listing.shown[:80]
    assert "30 komitmen terbaru dari 36" in listing.shown


async def test_the_daily_cap_counts_the_figures_own_day(harness: Harness) -> None:
    """A figure in Pontianak (WIB) who wrote just before their own midnight has a new day after it, even while it
    is already the same day in the office's zone (WITA)."""
    import datetime as dt

    from bot.render import timezone_for_region

    cap = harness.app.bot_data.settings.replies.per_figure_per_day
    [figure_user] = await make_figures(harness, 4000, 1, "61.71.01.1002")
    wib = timezone_for_region("61.71.01.1002")
    midnight = dt.datetime.combine(dt.datetime.now(wib).date(), dt.time(), tzinfo=wib)
    before_midnight = (midnight - dt.timedelta(minutes=1)).astimezone(dt.UTC)
    async with harness.app.bot_data.sessions() as session:
        figure = (await session.exec(select(Figure))).one()
        for number in range(cap):
            session.add(Reply(figure_id=figure.id, text=f"pesan {number}", received_at=before_midnight))
        await session.commit()
    [answer] = await harness.send(figure_user, "Pesan hari ini")
    assert "teruskan" in answer.shown, answer.shown


# 8. While the count question waits, any text with a digit in it was taken for a bad count and thrown away, even
# a reply to the broadcast ("TPS 05 pindah ke mana?"): only a number alone is an answer to the question.
async def test_words_with_a_number_in_them_are_passed_on_while_the_count_question_waits(harness: Harness) -> None:
    [figure] = await make_figures(harness, 3300, 1)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    await harness.press(figure, message, INVITE)
    [again] = await harness.send(figure, "0 orang")
    assert "bilangan bulat dari 1 sampai 10.000" in again.shown, "a number alone, out of range: asked again"
    question = "Pak, TPS 05 di Kelurahan Mawar pindah ke mana ya?"
    await harness.feed(harness.fake.reply_to(figure, message.message_id, question))
    assert "teruskan" in harness.last(figure).shown
    [passed_on] = await harness.send(figure, "Terima kasih infonya, 2 hari lagi kami rapat RT")
    assert "teruskan" in passed_on.shown
    stored = await _replies(harness)
    assert [r.text for r in stored] == [question, "Terima kasih infonya, 2 hari lagi kami rapat RT"]
    assert stored[0].broadcast_id is not None


# 9. The way people write a count: "12 orang." (a full stop), "20 org", "sekitar 20 orang", "10-20" were taken for
# a message to the officers, and the count was lost.
@pytest.mark.parametrize(
    ("answer", "count"), [("12 orang.", 12), ("20 org", 20), ("sekitar 20 orang", 20), ("10-20", 10), ("± 30", 30)]
)
async def test_a_count_written_as_people_write_it_is_the_count(harness: Harness, answer: str, count: int) -> None:
    [figure] = await make_figures(harness, 3300, 1)
    await send_broadcast(harness)
    message = broadcast_message(harness, figure)
    await harness.press(figure, message, INVITE)
    await harness.send(figure, answer)
    assert not await _replies(harness), "a count answer is no message for the officers"
    async with harness.app.bot_data.sessions() as session:
        [commitment] = [c for c in (await session.exec(select(Commitment))).all() if c.kind == "ajak"]
    assert commitment.invite_count == count
