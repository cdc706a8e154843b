"""ECMA-262 `pattern`s (JSON Schema's regex dialect) rewritten as PostgreSQL AREs that accept the same strings.

The two dialects share a syntax but not its meaning: in ECMA-262 a `-` after a range in a class is a literal
(PostgreSQL refuses `[a-z0-9-_]`), `.` excludes line terminators, `\\d \\w \\s` are fixed ASCII or Unicode sets
(PostgreSQL's follow the locale), `{` that starts no quantifier is a literal. The pattern is parsed and every
construct written the way PostgreSQL reads it; one with no exact equivalent (`\\b`, back references, `\\p{…}`,
lookaround, repetition counts over PostgreSQL's 255) makes `to_postgres` return None, and the caller emits no CHECK.
Code points, not UTF-16 units, are the unit on both sides, as in the validator (jsonschema-rs).
"""

from __future__ import annotations

import functools
import re

Ranges = list[tuple[int, int]]

MAX_REPEAT = 255  # PostgreSQL's DUPMAX: larger counts are refused when the CHECK is created
_LINE_TERMINATORS: Ranges = [(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)]
_SETS: dict[str, Ranges] = {
    "d": [(0x30, 0x39)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "s": [(0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029),
          (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF)],
}  # fmt: skip
_CONTROL_ESCAPES = {"t": 0x09, "n": 0x0A, "v": 0x0B, "f": 0x0C, "r": 0x0D}
_SPECIAL = set("^$.[]()|*+?{}\\")
_CLASS_SPECIAL = set("]\\[^-")
_QUANTIFIER = re.compile(r"\{(\d+)(,(\d*))?\}")


class Untranslatable(Exception):
    """The pattern uses a construct PostgreSQL cannot say the same way (or ECMA-262 refuses it)."""


def to_postgres(pattern: str) -> str | None:
    """The PostgreSQL regular expression equivalent to an ECMA-262 pattern, or None when there is none."""
    try:
        parser = _Parser(pattern)
        result = parser.alternation()
        if parser.pos != len(pattern):  # an unmatched `)`
            raise Untranslatable(pattern)
    except Untranslatable:
        return None
    return result or None


def to_python(pattern: str) -> str | None:
    """A Python `re` pattern equivalent to an ECMA-262 pattern (for `re.search`), or None when there is none:
    the PostgreSQL form, whose syntax Python reads the same, but `$` (which in Python also matches before a
    final newline) as `\\Z`."""
    translated = to_postgres(pattern)
    if translated is None:
        return None
    result = _outside_classes(translated, "$", "\\Z")
    try:
        re.compile(result)
    except re.error:
        return None
    return result


@functools.lru_cache(maxsize=1024)
def from_python(pattern: str) -> str:
    """The ECMA-262 spelling of a pattern `to_python` wrote (its `\\Z` as `$`), which means the same there."""
    return _outside_classes(pattern, "\\Z", "$")


def _outside_classes(pattern: str, token: str, replacement: str) -> str:
    """`pattern` (the PostgreSQL or Python form) with `token` (`$`, or an escape such as `\\Z`) replaced where it
    stands outside a character class."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            escape = pattern[i : i + 2]
            out.append(replacement if escape == token and not in_class else escape)
            i += 2
            continue
        if in_class:
            in_class = c != "]" or out[-1] == "[" or out[-1] == "[^"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                out.append("[^")
                i += 2
                continue
        elif c == token:
            c = replacement
        out.append(c)
        i += 1
    return "".join(out)


_GROUP_NAME = re.compile(r"\(\?<([A-Za-z_$][\w$]*)>")
_BACK_REFERENCE = re.compile(r"\\k<([A-Za-z_$][\w$]*)>")


def python_syntax(pattern: str) -> str:
    """An ECMA-262 pattern with its group names in Python's spelling (`(?<major>…)` as `(?P<major>…)`,
    `\\k<major>` as `(?P=major)`), for Python's `re`, which reads the rest of the syntax alike but refuses
    these: the semantic version pattern of many real schemas names its groups. Class contents and escapes are
    copied as they are (`[(?<a>]` is a class)."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        found = None
        if c == "\\" and not in_class:
            found = _BACK_REFERENCE.match(pattern, i)
            if found:
                out.append(f"(?P={found[1]})")
                i = found.end()
                continue
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            found = _GROUP_NAME.match(pattern, i)
            if found:
                out.append(f"(?P<{found[1]}>")
                i = found.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def take(self, n: int = 1) -> str:
        part = self.text[self.pos : self.pos + n]
        if len(part) < n:
            raise Untranslatable(self.text)
        self.pos += n
        return part

    def alternation(self) -> str:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return "|".join(branches)

    def sequence(self) -> str:
        out = []
        while self.pos < len(self.text) and self.peek() not in "|)":
            atom, repeatable = self.atom()
            out.append(atom + self.quantifier(repeatable))
        return "".join(out)

    def atom(self) -> tuple[str, bool]:
        """One atom as PostgreSQL writes it, and whether a quantifier may follow it."""
        c = self.take()
        if c in "^$":
            return c, False
        if c == ".":
            return _class(_LINE_TERMINATORS, negated=True), True
        if c == "(":
            return self.group()
        if c == "[":
            return self.char_class(), True
        if c == "\\":
            return self.escape(), True
        if c in "*+?)" or (c == "{" and self._quantifier_at(self.pos - 1)):
            raise Untranslatable(self.text)  # nothing to repeat
        return _literal(ord(c)), True

    def group(self) -> tuple[str, bool]:
        if self.peek(2) == "?:":
            self.pos += 2
            return self._close("(?:"), True
        if self.peek(2) in ("?=", "?!") or self.peek(3) in ("?<=", "?<!"):
            # PostgreSQL has lookaround, but the validator's engine for such patterns (fancy-regex) reads `.`
            # differently (it lets `\r` through): no CHECK can agree with both readings
            raise Untranslatable(self.text)
        if self.peek(2) == "?<":  # a named group: PostgreSQL has no names, the group is the same
            end = self.text.find(">", self.pos)
            if end < 0 or not re.fullmatch(r"[A-Za-z_$][\w$]*", self.text[self.pos + 2 : end]):
                raise Untranslatable(self.text)
            self.pos = end + 1
            return self._close("("), True
        if self.peek() == "?":
            raise Untranslatable(self.text)
        return self._close("("), True

    def _close(self, opener: str) -> str:
        inner = self.alternation()
        if self.take() != ")":
            raise Untranslatable(self.text)
        return f"{opener}{inner})"

    def _quantifier_at(self, pos: int) -> re.Match[str] | None:
        return _QUANTIFIER.match(self.text, pos)

    def quantifier(self, repeatable: bool) -> str:
        c = self.peek()
        found = self._quantifier_at(self.pos) if c == "{" else None
        if c not in ("*", "+", "?") and found is None:
            return ""
        if not repeatable:
            raise Untranslatable(self.text)
        if found is not None:
            low, high = int(found[1]), found[3]
            if low > MAX_REPEAT or (high and (int(high) > MAX_REPEAT or int(high) < low)):
                raise Untranslatable(self.text)
            self.pos = found.end()
            text = found[0]
        else:
            self.pos += 1
            text = c
        if self.peek() == "?":  # lazy: whether a match exists does not depend on it
            self.pos += 1
        if self.peek() in ("*", "+", "?") or self._quantifier_at(self.pos):
            raise Untranslatable(self.text)  # a quantifier of a quantifier
        return text

    def escape(self) -> str:
        c = self.peek()
        if c.lower() in _SETS:
            self.pos += 1
            return _class(_SETS[c.lower()], negated=c.isupper())
        return _literal(self.escaped_char())

    def escaped_char(self) -> int:
        """The code point of a character escape (after the backslash)."""
        c = self.take()
        if c in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[c]
        if c == "c" and self.peek().isascii() and self.peek().isalpha():
            return ord(self.take()) % 32
        if c == "x":
            return _hex(self.take(2), 2)
        if c == "u":
            return self._unicode_escape()
        if c.isascii() and c.isalnum() or c == "_":  # \b \B \1 \k \p …: no PostgreSQL equivalent
            raise Untranslatable(self.text)
        return ord(c)

    def _unicode_escape(self) -> int:
        if self.peek() == "{":
            end = self.text.find("}", self.pos)
            if end < 0:
                raise Untranslatable(self.text)
            code = _hex(self.text[self.pos + 1 : end], 6)
            self.pos = end + 1
        else:
            code = _hex(self.take(4), 4)
            if 0xD800 <= code < 0xDC00 and self.peek(2) == "\\u":  # a surrogate pair is one code point
                low = _hex(self.text[self.pos + 2 : self.pos + 6], 4)
                if 0xDC00 <= low < 0xE000:
                    self.pos += 6
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        if 0xD800 <= code < 0xE000 or code > 0x10FFFF:  # a lone surrogate: no PostgreSQL string holds one
            raise Untranslatable(self.text)
        return code

    def char_class(self) -> str:
        negated = self.peek() == "^"
        self.pos += negated
        ranges: Ranges = []
        while self.peek() != "]":
            low = self.class_atom()
            if self.peek() == "-" and self.peek(2)[1:] not in ("]", ""):  # else the `-` is a literal
                self.pos += 1
                high = self.class_atom()
                if isinstance(low, list) or isinstance(high, list) or low > high:
                    raise Untranslatable(self.text)  # `[\d-x]`, `[z-a]`
                ranges.append((low, high))
            else:
                ranges += low if isinstance(low, list) else [(low, low)]
        self.pos += 1
        if not ranges:  # `[]` matches nothing, `[^]` anything: rare enough to leave to validation
            raise Untranslatable(self.text)
        return _class(ranges, negated)

    def class_atom(self) -> int | Ranges:
        c = self.take()
        if c != "\\":
            return ord(c)
        e = self.peek()
        if e.lower() in _SETS:
            self.pos += 1
            return _complement(_SETS[e.lower()]) if e.isupper() else _SETS[e]
        if e == "b":  # a backspace inside a class
            self.pos += 1
            return 0x08
        if e == "-":
            self.pos += 1
            return ord("-")
        return self.escaped_char()


def _hex(digits: str, most: int) -> int:
    if not 0 < len(digits) <= most or not all(d in "0123456789abcdefABCDEF" for d in digits):
        raise Untranslatable(digits)
    return int(digits, 16)


def _char_escape(code: int) -> str:
    if code == 0:  # PostgreSQL text cannot hold NUL
        raise Untranslatable("\\0")
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _literal(code: int) -> str:
    """One character outside a class."""
    c = chr(code)
    if c in _SPECIAL:
        return "\\" + c
    return c if c.isprintable() and not c.isspace() or c == " " else _char_escape(code)


def _in_class(code: int) -> str:
    c = chr(code)
    if c in _CLASS_SPECIAL:
        return "\\" + c
    return c if c.isprintable() and not c.isspace() or c == " " else _char_escape(code)


def _class(ranges: Ranges, negated: bool) -> str:
    """A bracket expression; a lone `-` goes last, unescaped, as most patterns write it."""
    dash = (0x2D, 0x2D) in ranges
    kept = [r for r in ranges if r != (0x2D, 0x2D)]
    parts = [_in_class(lo) if lo == hi else f"{_in_class(lo)}-{_in_class(hi)}" for lo, hi in kept]
    return "[" + "^" * negated + "".join(parts) + "-" * dash + "]"


def _complement(ranges: Ranges) -> Ranges:
    """Every code point a PostgreSQL string may hold that `ranges` leaves out."""
    result: Ranges = []
    start = 1
    for lo, hi in sorted(ranges):
        if lo > start:
            result.append((start, lo - 1))
        start = max(start, hi + 1)
    result.append((start, 0x10FFFF))
    return _without_surrogates(result)


def _without_surrogates(ranges: Ranges) -> Ranges:
    out: Ranges = []
    for lo, hi in ranges:
        if lo < 0xD800 and hi > 0xDFFF:
            out += [(lo, 0xD7FF), (0xE000, hi)]
        else:
            out.append((lo, hi))
    return out
