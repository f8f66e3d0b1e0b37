"""The rules of notifications: when a reminder is due, one notice per thing, and the words."""

from __future__ import annotations

from node.core.notices import (
    REMINDER_MS,
    Notice,
    NoticeKind,
    closing_notice,
    event_notice,
    newest_first,
    proposal_notice,
    quote,
    sentence,
    unread,
)

DAY = REMINDER_MS


def test_a_closing_reminder_is_due_the_day_before_until_the_close_unless_one_voted() -> None:
    end = 10 * DAY
    assert closing_notice(3, 0, end, "hide spam", end - DAY - 1, voted=False) is None
    due = closing_notice(3, 0, end, "hide spam", end - DAY, voted=False)
    assert due is not None
    assert (due.at_ms, due.due_ms, due.key) == (end - DAY, end, "closing:3")
    assert closing_notice(3, 0, end, "hide spam", end - 1, voted=True) is None
    assert closing_notice(3, 0, end, "hide spam", end, voted=False) is None
    short = closing_notice(3, end - 3600_000, end, "", end - 60_000, voted=False)  # made an hour before its close
    assert short is not None
    assert short.at_ms == end - 3600_000


def test_an_event_is_recalled_from_a_day_before_or_from_the_yes() -> None:
    start = 5 * DAY
    assert event_notice(b"e", "", "Party", start, 0, start - DAY - 1) is None
    early = event_notice(b"e", "", "Party", start, 0, start - 10)
    assert early is not None
    assert early.at_ms == start - DAY
    late = event_notice(b"e", "", "Party", start, start - 600, start - 10)
    assert late is not None
    assert late.at_ms == start - 600
    assert event_notice(b"e", "", "Party", start, 0, start) is None


def test_one_notice_per_thing_a_reply_beats_a_mention_newest_first() -> None:
    mention = Notice(NoticeKind.MENTION, "post:aa", 5, "0xbob")
    as_reply = Notice(NoticeKind.REPLY, "post:aa", 5, "0xbob")
    older = Notice(NoticeKind.REACTION, "reaction:bb", 1, "0xcarol", text="👍")
    assert newest_first([older, mention, as_reply], 10) == [as_reply, older]
    assert newest_first([older, as_reply, mention], 1) == [as_reply]
    assert unread(as_reply, 4)
    assert not unread(as_reply, 5)


def test_an_add_member_proposal_is_a_join_request_told_as_the_applicant() -> None:
    join = proposal_notice(2, "add-member", "0xinviter", 7, "I bake bread", "0xdana")
    assert (join.kind, join.actor) == (NoticeKind.JOIN_REQUEST, "0xdana")
    other = proposal_notice(3, "hide-post", "0xbob", 8, "spam", "")
    assert (other.kind, other.actor) == (NoticeKind.PROPOSAL, "0xbob")


def test_each_notice_reads_as_a_sentence_with_names() -> None:
    names = {"0xbob": "Bob", "0xdana": "Dana"}.get

    def said(notice: Notice) -> str:
        return sentence(notice, lambda a: names(a or "") or "someone")

    assert (
        said(Notice(NoticeKind.REPLY, "k", 1, "0xbob", text="I do\nhave one")) == "Bob replied to you: “I do have one”"
    )
    assert said(Notice(NoticeKind.REACTION, "k", 1, "0xbob", text="🎉")) == "Bob reacted 🎉 to your post"
    assert "Dana asks to join" in said(proposal_notice(2, "add-member", "0xdana", 7, "hello", "0xdana"))
    assert (
        said(Notice(NoticeKind.MODERATION, "k", 1, text="ad", hidden=False))
        == "the community showed your post again: “ad”"
    )
    assert len(quote("x" * 500)) == 80
    assert quote("x" * 500).endswith("…")
