"""Languages of archcalc's words: English (the default) and Chinese.

Numbers, shapes and formulas are the same in every language; only words change. A module that
says something keeps its own messages beside the code that says it, as a small mapping from each
language to a str.format template (English required), and asks ``say`` for the words of the
language in use. The language is chosen once, at the edge: ``--lang``, else ``ARCHCALC_LANG``,
else English.

Text columns line up by display width: CJK characters take two terminal columns.
"""

from __future__ import annotations

import enum
import os
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

ENVIRONMENT = "ARCHCALC_LANG"


class Lang(enum.StrEnum):
    EN = "en"
    ZH = "zh"


Message = Mapping[str, str]  # language code → template; "en" always present


def resolve_lang(option: Lang | str | None = None) -> Lang:
    """``--lang`` if given, else ``ARCHCALC_LANG``, else English. ``zh_CN.UTF-8``, ``zh-TW`` and ``ZH``
    all mean Chinese; an unknown value is an OptionError listing the languages."""
    value = option if option is not None else os.environ.get(ENVIRONMENT, "")
    if isinstance(value, Lang):
        return value
    code = value.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    if not code:
        return Lang.EN
    try:
        return Lang(code)
    except ValueError:
        from .errors import OptionError

        where = "--lang" if option is not None else ENVIRONMENT
        allowed = ", ".join(lang.value for lang in Lang)
        raise OptionError(f"unknown language {value!r}; allowed: {allowed}", option=where) from None


def say(message: Message, lang: Lang = Lang.EN, **fields: Any) -> str:
    """The message in `lang` (English where it has no translation), its fields filled in."""
    template = message.get(lang.value) or message["en"]
    return template.format(**fields) if fields else template


def char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns `text` takes: 2 for each wide (CJK) character, 0 for combining marks."""
    if text.isascii():
        return len(text)
    return sum(char_width(char) for char in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """`text` padded with spaces to `width` display columns, on the left when `right`-aligned."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


class Phrase(str):
    """Words that say themselves in any language: the English text as a str (so every view that
    takes a str keeps working, unchanged), with the message and fields to say it in another.

    A field that is itself a Phrase (an axis name, a unit) is said in the same language.
    """

    __slots__ = ("message", "fields")
    message: Message
    fields: dict[str, Any]

    def __new__(cls, message: Message, **fields: Any) -> Phrase:
        self = super().__new__(cls, say(message, Lang.EN, **fields))
        self.message, self.fields = message, fields
        return self

    def __getnewargs_ex__(self) -> tuple[tuple[Message], dict[str, Any]]:  # copy and pickle
        return (self.message,), self.fields

    def said(self, lang: Lang) -> str:
        if lang is Lang.EN:
            return str(self)
        fields = {key: translated(value, lang) for key, value in self.fields.items()}
        return say(self.message, lang, **fields)


def translated(text: Any, lang: Lang) -> Any:
    """A Phrase in `lang`; anything else (a name, a number, a formula) as it is."""
    return text.said(lang) if isinstance(text, Phrase) else text


WORKED_OUT: Message = {"en": "{formula} → {output}"}  # a formula and the shape it gives, its words in any language


def word(en: str, zh: str) -> Phrase:
    """A short Phrase without fields: ``word("kernel", "卷积核")``."""
    return Phrase({"en": en, "zh": zh})


_TOKENS = re.compile(
    r"\s+|[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+"
)
_NO_LINE_START = set("，。；：、）」』》？！,.;:)")  # punctuation that stays with what it follows


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` display columns: broken at spaces, or between CJK characters
    (never before closing punctuation); a word longer than a line keeps a line to itself."""
    lines: list[str] = []
    line, used = "", 0
    for token in _TOKENS.findall(text):
        size = display_width(token)
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        if line and used + size > width and token[0] not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = "", 0
        line, used = line + token, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines
