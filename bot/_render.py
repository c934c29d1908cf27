"""Answers as Telegram HTML: escaped, highlighted, split between outlets within the message limit."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from retrieval import Answer, Context, OutletAnswer, OutletSummary, Passage, Quote

_TAG = re.compile(r"<[^>]+>")
# Button labels are cut to this many characters; Telegram shows little more on a phone.
BUTTON_LABEL_CHARS = 28
# The question is echoed at most this long (it may be a 100,000-character paste).
ECHO_CHARS = 300


def visible_length(text: str) -> int:
    """Length after entity parsing, in UTF-16 code units, as Telegram counts it."""
    plain = html.unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2


def esc(text: str) -> str:
    return html.escape(text, quote=False)


@dataclass
class Message:
    """One message to send: HTML text and the buttons for the outlets it shows."""

    text: str
    buttons: list[list[InlineKeyboardButton]] = field(default_factory=list)

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        return InlineKeyboardMarkup(self.buttons) if self.buttons else None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def quote_html(quote: Quote) -> str:
    text = quote.text
    if quote.highlight is None:
        return esc(text)
    a, b = quote.highlight
    return f"{esc(text[:a])}<b>{esc(text[a:b])}</b>{esc(text[b:])}"


def _source_line(quote: Quote) -> str:
    title = esc(_cut(quote.title, 120))
    if quote.url and quote.url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(quote.url, quote=True)}">{title}</a>'
    return f"<i>{title}</i>"


def outlet_block(number: int, outlet: OutletAnswer) -> str:
    first = outlet.quotes[0]
    when = first.published.isoformat() if first.published else "date not given"
    name = (
        esc(outlet.outlet)
        if outlet.outlet_known
        else f"{esc(_cut(outlet.outlet, 80))} <i>(outlet not stated)</i>"
    )
    lines = [f"<b>{number}. {name}</b> · {when}"]
    if outlet.same_story_as:
        lines.append(f"<i>Same story as: {esc('; '.join(outlet.same_story_as))}</i>")
    lines.extend(f"<blockquote>{quote_html(q)}</blockquote>" for q in outlet.quotes)
    sources = dict.fromkeys(_source_line(q) for q in outlet.quotes)
    lines.extend(sources)
    return "\n".join(lines)


def header_block(answer: Answer) -> str:
    lines = [f"❓ <b>{esc(_cut(answer.question, ECHO_CHARS))}</b>"]
    count = len(answer.outlets)
    lines.append(f"<i>{count} outlet{'s' if count != 1 else ''} · {answer.mode} search</i>")
    numbers = {o.outlet: str(i) for i, o in enumerate(answer.outlets, start=1)}
    for discrepancy in answer.discrepancies:
        sides = [
            f"<b>“{esc(v.value)}”</b> (outlet{'s' if len(v.outlets) > 1 else ''} "
            f"{', '.join(numbers[o] for o in v.outlets)})"
            for v in discrepancy.values
        ]
        lines.append(f"⚖️ Outlets disagree on the {esc(discrepancy.kind)}: {' vs '.join(sides)}")
    return "\n".join(lines)


def outlet_buttons(answer_id: str, number: int, outlet: OutletAnswer) -> list[InlineKeyboardButton]:
    label = _cut(f"{number}. {outlet.outlet}", BUTTON_LABEL_CHARS)
    return [
        InlineKeyboardButton(f"➕ {label}", callback_data=f"m:{answer_id}:{number}"),
        InlineKeyboardButton("📄 Context", callback_data=f"c:{answer_id}:{number}"),
        InlineKeyboardButton("👍", callback_data=f"f:{answer_id}:{number}:1"),
        InlineKeyboardButton("👎", callback_data=f"f:{answer_id}:{number}:0"),
    ]


def answer_messages(
    answer: Answer, answer_id: str, limit: int = MessageLimit.MAX_TEXT_LENGTH
) -> list[Message]:
    """The answer as messages of at most ``limit`` visible characters, split only between outlets."""
    if not answer.answered:
        return [Message(no_answer(answer.question))]
    blocks: list[tuple[str, list[InlineKeyboardButton] | None]] = [(header_block(answer), None)]
    for number, outlet in enumerate(answer.outlets, start=1):
        blocks.append((outlet_block(number, outlet), outlet_buttons(answer_id, number, outlet)))
    messages: list[Message] = []
    current = Message("")
    for text, buttons in blocks:
        text = _fit(text, limit)
        joined = f"{current.text}\n\n{text}" if current.text else text
        if current.text and visible_length(joined) > limit:
            messages.append(current)
            current, joined = Message(""), text
        current.text = joined
        if buttons:
            current.buttons.append(buttons)
    messages.append(current)
    return messages


def _fit(block: str, limit: int) -> str:
    """A block longer than a whole message (a pathological quote) loses its tail, marked […]."""
    while visible_length(block) > limit:
        quotes = re.findall(r"<blockquote>(.*?)</blockquote>", block, flags=re.S)
        longest = max(quotes, key=len)
        plain = html.unescape(_TAG.sub("", longest))
        shorter = esc(plain[: max(1, len(plain) - (visible_length(block) - limit) - 8)]) + " […]"
        block = block.replace(f"<blockquote>{longest}</blockquote>", f"<blockquote>{shorter}</blockquote>", 1)
    return block


def no_answer(question: str) -> str:
    return (
        f"❓ <b>{esc(_cut(question, ECHO_CHARS))}</b>\n\n"
        "No outlet in the index says anything about this. Try rephrasing the question, or see "
        "/sources for the outlets and dates the index covers."
    )


def context_message(number: int, context: Context) -> str:
    return (
        f"📄 <b>Context from {number}. {esc(_cut(context.outlet, 120))}</b>\n"
        f"<blockquote>{esc(context.before)}<b>{esc(context.quote)}</b>{esc(context.after)}</blockquote>"
    )


def more_message(number: int, outlet: str, passages: list[Passage]) -> str:
    head = f"➕ <b>More from {number}. {esc(_cut(outlet, 120))}</b>"
    if not passages:
        return f"{head}\nNothing more from this outlet on the question."
    body = "\n".join(f"<blockquote>{esc(p.text)}</blockquote>" for p in passages)
    return _fit(f"{head}\n{body}", MessageLimit.MAX_TEXT_LENGTH)


def sources_message(outlets: list[OutletSummary], limit: int = MessageLimit.MAX_TEXT_LENGTH) -> str:
    lines = [f"📚 <b>{len(outlets)} outlets in the index</b>"]
    for summary in outlets:
        span = f"{summary.first} – {summary.last}" if summary.first else "undated"
        count = f"{summary.articles} article{'s' if summary.articles != 1 else ''}"
        line = f"• {esc(_cut(summary.outlet, 90))}: {count}, {span}"
        if visible_length("\n".join([*lines, line, "…"])) > limit:
            lines.append("…")
            break
        lines.append(line)
    return "\n".join(lines)
