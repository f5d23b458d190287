"""Strict parser for Telegram's HTML parse_mode producing plain text and message entities."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ALL_TAGS = frozenset({*_SIMPLE_TAGS, "span", "a", "tg-emoji"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_:-]*")
_WS = " \t\r\n"


class HtmlParseError(ValueError):
    """Raised when text is not valid Telegram HTML; the message is Telegram's reason."""


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    attrs: dict[str, str]
    start: int
    byte_offset: int


def utf16_len(text: str) -> int:
    """Length of text in UTF-16 code units, the unit Telegram uses for entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _decode_reference(match: re.Match[str]) -> str | None:
    """Character for a matched `&...;` reference, or None if Telegram does not support it."""
    dec, hexa, name = match.groups()
    if name is not None:
        return _NAMED_ENTITIES.get(name)
    code = int(dec) if dec is not None else int(hexa, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Validate Telegram HTML and return the visible text and its entities (UTF-16 offsets)."""
    return _Parser(html).run()


class _Parser:
    """Single-pass scanner over the HTML source."""

    def __init__(self, html: str) -> None:
        self.src = html
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, pos: int) -> int:
        """UTF-8 byte offset of a character position, as Telegram reports it."""
        return len(self.src[:pos].encode("utf-8"))

    def emit(self, text: str) -> None:
        """Append visible text."""
        self.out.append(text)
        self.out_len += utf16_len(text)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        """Scan the whole source."""
        src = self.src
        while self.pos < len(src):
            nxt = min((i for i in (src.find("<", self.pos), src.find("&", self.pos)) if i >= 0), default=-1)
            if nxt < 0:
                self.emit(src[self.pos :])
                break
            if nxt > self.pos:
                self.emit(src[self.pos : nxt])
            self.pos = nxt
            if src[nxt] == "&":
                self.emit(self.read_entity())
            elif src.startswith("</", nxt):
                self.read_end_tag()
            else:
                self.read_start_tag()
        if self.stack:
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def read_entity(self) -> str:
        """Decode the character reference at pos."""
        match = _ENTITY_RE.match(self.src, self.pos)
        char = _decode_reference(match) if match else None
        if match is None or char is None:
            raise HtmlParseError(f"Unsupported HTML entity at byte offset {self.byte_offset(self.pos)}")
        self.pos = match.end()
        return char

    def read_start_tag(self) -> None:
        """Parse `<name attr="v" ...>` and push it on the stack."""
        begin = self.pos
        name_match = _TAG_NAME_RE.match(self.src, begin + 1)
        name = name_match.group().lower() if name_match else ""
        if name not in _ALL_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}')
        assert name_match is not None
        self.pos = name_match.end()
        attrs = self.read_attributes(name, begin)
        tag = _OpenTag(name, attrs, self.out_len, self.byte_offset(begin))
        self.validate_start(tag)
        self.stack.append(tag)

    def read_attributes(self, tag: str, begin: int) -> dict[str, str]:
        """Parse attributes up to and including the closing `>`."""
        src, attrs = self.src, dict[str, str]()
        while True:
            while self.pos < len(src) and src[self.pos] in _WS:
                self.pos += 1
            if self.pos >= len(src):
                raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
            if src[self.pos] == ">":
                self.pos += 1
                return attrs
            match = _ATTR_NAME_RE.match(src, self.pos)
            if not match:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(self.pos)}'
                )
            self.pos = match.end()
            attrs[match.group().lower()] = self.read_attribute_value(tag) if src.startswith("=", self.pos) else ""

    def read_attribute_value(self, tag: str) -> str:
        """Parse `=value`, `="value"` or `='value'`, decoding character references."""
        src = self.src
        self.pos += 1
        if self.pos < len(src) and src[self.pos] in "\"'":
            quote = src[self.pos]
            end = src.find(quote, self.pos + 1)
            if end < 0:
                raise HtmlParseError(
                    f'Unclosed attribute value in the tag "{tag}" at byte offset {self.byte_offset(self.pos)}'
                )
            raw, self.pos = src[self.pos + 1 : end], end + 1
        else:
            start = self.pos
            while self.pos < len(src) and src[self.pos] not in _WS + ">":
                self.pos += 1
            raw = src[start : self.pos]
        return _ENTITY_RE.sub(lambda m: _decode_reference(m) or m.group(), raw)

    def validate_start(self, tag: _OpenTag) -> None:
        """Check tag-specific attribute requirements."""
        where = f"at byte offset {tag.byte_offset}"
        if tag.name == "span" and tag.attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" {where}')
        if tag.name == "a" and not tag.attrs.get("href"):
            raise HtmlParseError(f'Tag "a" must have attribute "href" {where}')
        if tag.name == "tg-emoji" and not tag.attrs.get("emoji-id", "").isdigit():
            raise HtmlParseError(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')

    def read_end_tag(self) -> None:
        """Parse `</name>` and close the matching start tag."""
        begin = self.pos
        end = self.src.find(">", begin)
        if end < 0:
            raise HtmlParseError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        name = self.src[begin + 2 : end].strip().lower()
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        top = self.stack.pop()
        if name != top.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.pos = end + 1
        self.close(top)

    def close(self, tag: _OpenTag) -> None:
        """Turn a closed tag into an entity covering the text emitted since it was opened."""
        length = self.out_len - tag.start
        if length == 0:
            return
        entity: dict[str, Any] = {
            "type": _SIMPLE_TAGS.get(tag.name, ""),
            "offset": tag.start,
            "length": length,
        }
        if tag.name == "span":
            entity["type"] = "spoiler"
        elif tag.name == "a":
            entity["type"] = "text_link"
            entity["url"] = tag.attrs["href"]
        elif tag.name == "tg-emoji":
            entity["type"] = "custom_emoji"
            entity["custom_emoji_id"] = tag.attrs["emoji-id"]
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            language = tag.attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1].attrs["language"] = language.removeprefix("language-")
            return
        elif tag.name == "pre" and tag.attrs.get("language"):
            entity["language"] = tag.attrs["language"]
        self.entities.append(entity)
