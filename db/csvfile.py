"""A CSV file exported by another system: its text, its delimiter, and its columns named as our fields."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from .categories import key

# Spreadsheets on Windows save "CSV" in the machine's code page: cp1252 in Western Europe.
# latin-1 last, because it reads any byte: a file is never refused for its encoding alone.
ENCODINGS = ("utf-8", "cp1252", "latin-1")
DELIMITERS = ",;\t"
IGNORE = ("-", "ignore")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class CsvError(ValueError):
    pass


@dataclass
class Row:
    line: int                     # the file's line the record starts on, as an editor numbers it
    values: dict[str, str]        # field → the text in its column, stripped
    problem: str = ""             # what makes the row unreadable, if anything


@dataclass
class Table:
    encoding: str
    delimiter: str
    columns: dict[str, str]       # header as written → our field
    unused: list[str]             # headers we do not import
    rows: list[Row] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without a byte order mark, else cp1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8"
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def delimiter_of(header: str) -> str:
    """The delimiter of the header line: whichever of , ; and tab it holds most of outside quotes.
    A Dutch or French spreadsheet writes ; because , is its decimal sign."""
    counts = {d: 0 for d in DELIMITERS}
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_map(pairs, fields) -> dict[str, str]:
    """`--map column=field` options as {column key: field}; "-" or "ignore" leaves a column out."""
    mapping = {}
    for pair in pairs:
        column, equals, target = pair.partition("=")
        target = target.strip().lower()
        if not equals or not column.strip() or not target:
            raise CsvError(f"--map {pair!r}: write COLUMN=FIELD, e.g. --map Lidnummer=number")
        if target not in fields and target not in IGNORE:
            raise CsvError(f"--map {pair!r}: {target!r} is not a field here; one of {', '.join(fields)}, or -")
        mapping[key(column)] = "-" if target in IGNORE else target
    return mapping


def read(data: bytes, headers: dict[str, list[str]], mapping: dict[str, str] | None = None) -> Table:
    """The file's rows with their columns named as our fields.

    `headers` gives, per field, the headers other systems use for it, best first: when a
    file has two (eLAS writes `name` and `fullname`), the one listed first wins and the
    other is reported unused. `mapping` (from --map) goes before all of them."""
    text, encoding = decode(data)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise CsvError("the file is empty")
    delimiter = delimiter_of(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = []
    for record in reader:
        if any(cell.strip() for cell in record):
            header = [cell.strip() for cell in record]
            break
    columns, unused = _name(header, headers, mapping or {})
    wanted = {index: name for index, name in enumerate(header) if name in columns}
    table = Table(encoding, delimiter, columns, unused)
    line = reader.line_num + 1
    for record in reader:
        if any(cell.strip() for cell in record):
            values, problem = {}, ""
            for index, column in wanted.items():
                cell = record[index].strip() if index < len(record) else ""
                if CONTROL.search(cell):
                    # A NUL or another control character is no text anybody typed, and
                    # PostgreSQL refuses NUL in a string: the file is damaged here.
                    problem = f"column {column} holds a control character (a damaged file?)"
                values[columns[column]] = cell
            table.rows.append(Row(line, values, problem))
        line = reader.line_num + 1
    opened = _unclosed_quote(text, delimiter)
    for row in table.rows:
        if row.line == opened:
            row.problem = ('a quote (") opens on this line and is never closed, so the rest of the file '
                           "would be read as one value: close it or remove it")
    return table


def _unclosed_quote(text: str, delimiter: str) -> int | None:
    """The line of the record where a quote opens that the file never closes. The csv module
    then reads everything after it as one value and says nothing: a member's name would
    hold every row below it (a row the tour of an import found lost that way)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        for _ in reader:
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return start
    return None


def _name(header: list[str], headers: dict[str, list[str]], mapping: dict[str, str]):
    known = {key(name): field_name for field_name, names in headers.items() for name in names}
    rank = {key(name): position for names in headers.values() for position, name in enumerate(names)}
    missing = [column for column in mapping if column not in {key(h) for h in header}]
    if missing:
        raise CsvError(f"--map names a column the file does not have: {', '.join(missing)}; "
                       f"its columns are: {', '.join(header)}")
    chosen: dict[str, tuple[int, str]] = {}      # field → (rank, header)
    for name in header:
        k = key(name)
        target = mapping.get(k, known.get(k))
        if not name or target is None or target == "-":
            continue
        order = -1 if k in mapping else rank.get(k, 0)
        if target not in chosen or order < chosen[target][0]:
            chosen[target] = (order, name)
    picked = {name: target for target, (_, name) in chosen.items()}
    columns = {name: picked[name] for name in header if name in picked}
    unused = [name for name in header if name and name not in columns]
    return columns, unused
