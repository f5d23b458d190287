"""A small validator for Telegram's HTML parse mode: would Telegram accept this text, and how long is it?

Telegram refuses a message with an unsupported tag, a broken entity or badly nested tags ("can't parse
entities"), and counts the 4096-character limit on the visible text after the tags are parsed. This module
answers both questions before a broadcast goes out, so the templates can be checked ahead of time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_MESSAGE_LENGTH = 4096

# Tags Telegram understands in parse_mode=HTML (Bot API, "HTML style").
FORMAT_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler"})
ALLOWED_TAGS = FORMAT_TAGS | {"span", "a", "code", "pre", "blockquote", "tg-emoji"}
# Telegram's named character references; everything else must be numeric.
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
LINK_SCHEMES = ("https://", "http://", "tg://", "mailto:")

_REFERENCE = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]*));")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^<>]*)?)\s*>")
_ATTRIBUTE = re.compile(r"""([A-Za-z_][A-Za-z0-9_:-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")


class TelegramHtmlError(ValueError):
    """The text is not HTML that Telegram would accept; the message says where and why."""


@dataclass
class _Open:
    name: str
    attributes: dict[str, str] = field(default_factory=dict)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram measures text in (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _decode(match: re.Match[str]) -> str | None:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return NAMED_ENTITIES.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _unescape_text(text: str, offset: int) -> str:
    """Decode character references in a stretch of text between tags; a stray '&' is an error (a bare '>' is
    accepted, as Telegram does)."""
    out: list[str] = []
    pos = 0
    while True:
        amp = text.find("&", pos)
        if amp < 0:
            out.append(text[pos:])
            break
        out.append(text[pos:amp])
        match = _REFERENCE.match(text, amp)
        char = _decode(match) if match else None
        if match is None or char is None:
            snippet = text[amp : amp + 10]
            raise TelegramHtmlError(f"unsupported character reference {snippet!r} at offset {offset + amp}")
        out.append(char)
        pos = match.end()
    return "".join(out)


def _attributes(raw: str, tag: str, offset: int) -> dict[str, str]:
    attributes: dict[str, str] = {}
    pos = 0
    raw = raw.strip()
    while pos < len(raw):
        match = _ATTRIBUTE.match(raw, pos)
        if match is None:
            raise TelegramHtmlError(f"malformed attributes in <{tag}> at offset {offset}")
        name, double, single, bare = match.groups()
        value = next((v for v in (double, single, bare) if v is not None), "")
        attributes[name.lower()] = _REFERENCE.sub(lambda m: _decode(m) or m.group(), value)
        pos = match.end()
        while pos < len(raw) and raw[pos].isspace():
            pos += 1
    return attributes


def _check_start(tag: _Open, stack: list[_Open], offset: int) -> None:
    where = f"<{tag.name}> at offset {offset}"
    names = [open_tag.name for open_tag in stack]
    if tag.name not in ALLOWED_TAGS:
        raise TelegramHtmlError(f"unsupported tag {where}")
    if tag.name == "span" and tag.attributes.get("class") != "tg-spoiler":
        raise TelegramHtmlError(f'{where}: <span> is only allowed as <span class="tg-spoiler">')
    if tag.name == "a":
        href = tag.attributes.get("href", "")
        if not href:
            raise TelegramHtmlError(f"{where}: a link needs an href")
        if not href.startswith(LINK_SCHEMES):
            raise TelegramHtmlError(f"{where}: link {href!r} must start with {', '.join(LINK_SCHEMES)}")
        if "a" in names:
            raise TelegramHtmlError(f"{where}: links cannot be nested")
    if tag.name == "tg-emoji" and not tag.attributes.get("emoji-id", "").isdigit():
        raise TelegramHtmlError(f"{where}: <tg-emoji> needs a numeric emoji-id")
    if tag.name == "blockquote" and "blockquote" in names:
        raise TelegramHtmlError(f"{where}: quotes cannot be nested")
    if tag.name == "code" and names and names[-1] == "pre":
        return  # <pre><code class="language-x"> is how a language is named.
    if "pre" in names or "code" in names:
        raise TelegramHtmlError(f"{where}: nothing may be nested inside <pre> or <code>")


def parse(html: str) -> str:
    """The visible text of HTML as Telegram would show it; raises TelegramHtmlError if Telegram would refuse it."""
    out: list[str] = []
    stack: list[_Open] = []
    pos = 0
    while pos < len(html):
        lt = html.find("<", pos)
        text = html[pos:] if lt < 0 else html[pos:lt]
        out.append(_unescape_text(text, pos))
        if lt < 0:
            break
        match = _TAG.match(html, lt)
        if match is None:
            raise TelegramHtmlError(f"stray '<' at offset {lt}; write &lt;")
        closing, name, raw_attributes = match.group(1), match.group(2).lower(), match.group(3)
        if closing:
            if raw_attributes.strip():
                raise TelegramHtmlError(f"end tag </{name}> at offset {lt} has attributes")
            if not stack:
                raise TelegramHtmlError(f"end tag </{name}> at offset {lt} closes nothing")
            top = stack.pop()
            if top.name != name:
                raise TelegramHtmlError(f"end tag </{name}> at offset {lt} does not match <{top.name}>")
        else:
            tag = _Open(name, _attributes(raw_attributes, name, lt))
            _check_start(tag, stack, lt)
            stack.append(tag)
        pos = match.end()
    if stack:
        raise TelegramHtmlError(f"<{stack[-1].name}> is never closed")
    return "".join(out)


def text_length(html: str) -> int:
    """Length of the visible text in the units Telegram's 4096-character limit counts."""
    return utf16_length(parse(html))


def problems(html: str) -> list[str]:
    """Why Telegram would refuse to send HTML as one message: empty list when it would be accepted."""
    try:
        text = parse(html)
    except TelegramHtmlError as exc:
        return [f"invalid Telegram HTML: {exc}"]
    if not text.strip():
        return ["the message is empty"]
    length = utf16_length(text)
    if length > MAX_MESSAGE_LENGTH:
        return [f"the message is {length} characters long, more than Telegram's {MAX_MESSAGE_LENGTH}"]
    return []
