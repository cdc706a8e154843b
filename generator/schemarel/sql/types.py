"""Column types: (JSON type, format) → SQL type as a lookup table, integer ranges, decimals, `x-sql` type names."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from schemarel.ir import ColumnType

# Formats not listed keep the plain type of their JSON type: a format is a promise about text, and only
# these have a column type that stores every valid value and gives it back unchanged.
FORMAT_TYPES: Mapping[tuple[str, str | None], ColumnType] = {
    ("string", None): ColumnType("text"),
    ("string", "email"): ColumnType("varchar", length=320),  # RFC 5321: 64 + 1 + 255
    ("string", "idn-email"): ColumnType("varchar", length=320),
    ("string", "date"): ColumnType("date"),
    ("string", "date-time"): ColumnType("datetime"),
    ("string", "time"): ColumnType("time"),
    ("string", "uuid"): ColumnType("uuid"),
    ("string", "ipv4"): ColumnType("varchar", length=15),  # text, not inet: inet rewrites IPv6 addresses
    ("string", "ipv6"): ColumnType("varchar", length=45),
    ("string", "hostname"): ColumnType("varchar", length=253),
    ("string", "uri"): ColumnType("text"),
    ("boolean", None): ColumnType("boolean"),
    ("integer", None): ColumnType("bigint"),
    ("integer", "int32"): ColumnType("integer"),  # OpenAPI
    ("integer", "int64"): ColumnType("bigint"),
    ("number", None): ColumnType("float"),
}
# Column types that keep a value, not its spelling (an instant, a double): the runtime keeps the text beside them
SPELLED_KINDS = frozenset({"uuid", "date", "datetime", "time", "float", "numeric"})
INT_RANGES = (("smallint", -(2**15), 2**15 - 1), ("integer", -(2**31), 2**31 - 1), ("bigint", -(2**63), 2**63 - 1))
MAX_VARCHAR = 10_485_760  # PostgreSQL's limit; longer maxLength → text
MAX_NUMERIC_PRECISION = 38
DEFAULT_NUMERIC_PRECISION = 18
# Enum labels PostgreSQL and MySQL accept natively; other value sets become varchar + CHECK.
MAX_ENUM_LABEL_BYTES = 63

_SQL_TYPE = re.compile(r"^(?P<kind>[a-z]+)(?:\((?P<a>\d+)(?:,\s*(?P<b>\d+))?\))?$")
_PLAIN_KINDS = {"uuid", "text", "boolean", "smallint", "integer", "bigint", "float", "date", "datetime", "time", "json"}
SQL_TYPE_PATTERN = "^(" + "|".join(sorted(_PLAIN_KINDS)) + r"|varchar\(\d+\)|numeric\(\d+(,\s*\d+)?\))$"


def scalar_type(kind: str, kw: Mapping[str, Any]) -> ColumnType:
    """The column type of a scalar of JSON type `kind` with keywords `kw` (format, bounds, multipleOf)."""
    fmt = kw.get("format") if isinstance(kw.get("format"), str) else None
    ctype = FORMAT_TYPES.get((kind, fmt), FORMAT_TYPES[(kind, None)])
    max_length = kw.get("maxLength")
    if kind == "string" and ctype.kind == "text" and isinstance(max_length, int) and _is_int(max_length) \
            and 0 < max_length <= MAX_VARCHAR:  # fmt: skip
        return ColumnType("varchar", length=max_length)
    if kind == "integer" and ctype.kind == "bigint":
        return ColumnType(int_kind(kw))
    if kind == "number":
        return numeric_type(kw) or ctype
    return ctype


def int_kind(kw: Mapping[str, Any]) -> Any:
    """The smallest integer type that holds every value between the bounds (bigint when unbounded)."""
    lo = _first_number(kw, "minimum", "exclusiveMinimum")
    hi = _first_number(kw, "maximum", "exclusiveMaximum")
    if lo is not None and hi is not None:
        for kind, kmin, kmax in INT_RANGES:
            if kmin <= lo and hi <= kmax:
                return kind
    return "bigint"


def numeric_type(kw: Mapping[str, Any]) -> ColumnType | None:
    """numeric(p, s) for a number with a decimal `multipleOf` (0.01 → scale 2); None without one."""
    step = kw.get("multipleOf")
    if not isinstance(step, int | float) or not _is_number(step) or step <= 0:
        return None
    try:
        exponent = Decimal(str(step)).normalize().as_tuple().exponent
    except InvalidOperation:
        return None
    scale = max(0, -int(exponent)) if isinstance(exponent, int) else 0
    lo = _first_number(kw, "minimum", "exclusiveMinimum")
    hi = _first_number(kw, "maximum", "exclusiveMaximum")
    if lo is not None and hi is not None:
        precision = len(str(int(max(abs(lo), abs(hi))))) + scale
    else:
        precision = DEFAULT_NUMERIC_PRECISION + scale
    if precision > MAX_NUMERIC_PRECISION or scale > MAX_NUMERIC_PRECISION:
        return None
    return ColumnType("numeric", precision=precision, scale=scale)


def parse_sql_type(text: str) -> ColumnType:
    """An `x-sql` `type` (`varchar(40)`, `numeric(12,2)`, `bigint`…) as a ColumnType."""
    match = _SQL_TYPE.match(text.strip().lower())
    assert match is not None, text  # the x-sql schema only lets valid names through
    kind, a, b = match["kind"], match["a"], match["b"]
    if kind == "varchar":
        return ColumnType("varchar", length=int(a))
    if kind == "numeric":
        return ColumnType("numeric", precision=int(a), scale=int(b or 0))
    assert kind in _PLAIN_KINDS, text
    return ColumnType(kind)  # type: ignore[arg-type]


def native_enum_ok(values: Sequence[str]) -> bool:
    """Whether every dialect can hold these labels in a native enum (PostgreSQL: 1–63 bytes; MariaDB and MySQL:
    labels must differ under the server's collation, which folds case, accents and width (`e` and `é` make
    CREATE TABLE fail), a trailing space is stripped from a label (`'a '` reads back `'a'`), and a backslash
    in one is read back doubled)."""
    fits = all(0 < len(v.encode()) <= MAX_ENUM_LABEL_BYTES and "\\" not in v and not v.endswith(" ") for v in values)
    return fits and len({_collation_key(v) for v in values}) == len(values)


def _collation_key(label: str) -> str:
    """A label as a case-, accent- and width-insensitive collation compares it (compatibility decomposition,
    combining marks dropped, case folded): two labels with one key are one label to MariaDB's ENUM."""
    decomposed = unicodedata.normalize("NFKD", label)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _first_number(kw: Mapping[str, Any], *keys: str) -> float | None:
    return next((kw[k] for k in keys if _is_number(kw.get(k))), None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
