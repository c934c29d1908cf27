"""Splitting long answers between outlets, within Telegram's limit, never inside a tag or a quote."""

from __future__ import annotations

from telegram.constants import MessageLimit

from bot import answer_messages, visible_length
from retrieval import Answer, OutletAnswer, Quote
from tests.bot.telegram_html import check_telegram_html


def _answer(outlets: int, quote_chars: int) -> Answer:
    return Answer(
        question="<q> & “x”",
        mode="hybrid",
        answered=True,
        discrepancies=[],
        outlets=[
            OutletAnswer(
                outlet=f"Outlet <{i}>",
                quotes=[
                    Quote(
                        text=("word & <tag> " * quote_chars)[:quote_chars],
                        doc_id=f"d{i}",
                        title="T",
                        published=None,
                        url="https://example.org/a?b=1&c=<2>",
                        start=0,
                        end=quote_chars,
                        score=1.0,
                        highlight=(0, 4),
                    )
                ],
            )
            for i in range(outlets)
        ],
    )


def test_many_outlets_split_between_outlets() -> None:
    messages = answer_messages(_answer(12, 900), "1")
    assert len(messages) > 2
    for message in messages:
        check_telegram_html(message.text)
        assert visible_length(message.text) <= MessageLimit.MAX_TEXT_LENGTH
        assert message.text.count("<blockquote>") == message.text.count("</blockquote>")
    shown = sum(len(m.buttons) for m in messages)
    assert shown == 12  # each outlet's buttons travel with its quote


def test_a_quote_longer_than_a_message_is_cut_visibly() -> None:
    messages = answer_messages(_answer(1, 6000), "1")
    for message in messages:
        check_telegram_html(message.text)
    assert "[…]" in messages[-1].text and messages[-1].buttons


def test_everything_from_outside_is_escaped() -> None:
    (message,) = answer_messages(_answer(1, 50), "1")
    assert "&lt;q&gt; &amp;" in message.text and "Outlet &lt;0&gt;" in message.text
    assert 'href="https://example.org/a?b=1&amp;c=&lt;2&gt;"' in message.text
