"""Checks that a text is HTML Telegram accepts: its tags only, balanced, within the length limit."""

from __future__ import annotations

from html.parser import HTMLParser

from telegram.constants import MessageLimit

from bot import visible_length

ALLOWED = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
    "tg-emoji",
}
ATTRIBUTES = {
    "a": {"href"},
    "span": {"class"},
    "blockquote": {"expandable"},
    "code": {"class"},
    "pre": {"class"},
    "tg-emoji": {"emoji-id"},
}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag <{tag}> is not accepted by Telegram")
        for name, _ in attrs:
            if name not in ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name!r} on <{tag}>")
        if tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> without href")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close {self.stack[-1:] or 'anything'}")
        else:
            self.stack.pop()


def check_telegram_html(text: str) -> None:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        checker.problems.append(f"unclosed {checker.stack}")
    assert not checker.problems, f"{checker.problems} in {text[:300]!r}"
    assert 0 < visible_length(text) <= MessageLimit.MAX_TEXT_LENGTH, visible_length(text)
