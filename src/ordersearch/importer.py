"""File import: add-update bodies from NDJSON, a JSON array or flat CSV; employees from CSV.

Reading and applying are separate. `open_source` turns a file into numbered elements (a
line number, or a 1-based index in a JSON array), each a body or the reason it could not
be read; `import_elements` applies the bodies in batches (each element atomic on its own)
and yields one outcome per element, so a bad element is reported and the others still land.

Flat CSV columns are paths into the add-update body (see `FLAT_CSV_HELP`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from ordersearch import accounts as accounts_service
from ordersearch.db.engine import Database
from ordersearch.errors import OrderSearchError
from ordersearch.ingest.service import ingest_batch
from ordersearch.jsonbody import parse_body
from ordersearch.tenancy import Account
from ordersearch.values import parse_int

Format = Literal["auto", "ndjson", "json", "csv"]

# Fields whose CSV cell holds JSON text, and the lists among them (whose items can also be
# spread over numbered columns: `order_info.product_details.1.sku_id`).
LIST_FIELDS = frozenset({"contact_info", "product_details"})
JSON_FIELDS = LIST_FIELDS | {"additional_fields", "associate_fields"}
BOOLEAN_FIELDS = frozenset({"update"})
TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "0", "n"})

FLAT_CSV_HELP = """\
CSV: one order per row; the header names where each cell goes in the add-update body, as a
dot-separated path: customer_info.customer_name, customer_info.phone, enquiry_info.status,
order_info.erp_order_id, order_info.amount, order_info.attr1, ...; cmId is a plain column.
Additional fields: order_info.additional_fields.floor (one column per key), or the whole
object as JSON in order_info.additional_fields. Lists: numbered columns, 1-based
(contact_info.1.contact_person_name, order_info.product_details.2.sku_id), or the whole
list as JSON in contact_info / order_info.product_details. An empty cell is "not given";
update columns take true/false. Blank rows are skipped."""


class ImportFileError(OrderSearchError):
    """The file as a whole cannot be read (nothing is imported)."""

    status_code = 400


@dataclass(frozen=True)
class Element:
    position: int  # line number (NDJSON, CSV) or 1-based index in a JSON array
    body: dict[str, Any] | None
    error: str | None = None  # why the element could not be read, when body is None


@dataclass(frozen=True)
class Source:
    path: Path
    format: Literal["ndjson", "json", "csv"]
    total: int  # elements expected; for progress only (CSV rows may span lines)
    elements: Iterator[Element]

    @property
    def unit(self) -> str:
        """What `Element.position` counts."""
        return "element" if self.format == "json" else "line"


@dataclass(frozen=True)
class Outcome:
    position: int
    ok: bool
    message: str
    warnings: Sequence[str] = ()


# --- reading ---------------------------------------------------------------------------


def open_source(path: Path, file_format: Format = "auto") -> Source:
    """Read `path` as `file_format`; "auto" means CSV for *.csv, else by the first character:
    `[` a JSON array, `{` NDJSON (or one pretty-printed JSON object), anything else CSV."""
    try:
        head = _first_bytes(path)
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not head.strip():
        raise ImportFileError(f"{path} is empty")
    chosen = file_format if file_format != "auto" else _detect(path, head)
    if chosen == "csv":
        header, lines = _csv_header_and_lines(path)
        return Source(path, "csv", max(lines - 1, 0), _csv_elements(path, header))
    if chosen == "json" or (file_format == "auto" and _is_one_pretty_object(path)):
        elements = _json_elements(path)
        return Source(path, "json", len(elements), iter(elements))
    return Source(path, "ndjson", _count_lines(path, non_blank=True), _ndjson_elements(path))


def _first_bytes(path: Path, size: int = 65536) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size).removeprefix(b"\xef\xbb\xbf")


def _detect(path: Path, head: bytes) -> Literal["ndjson", "json", "csv"]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".ndjson", ".jsonl"):
        return "ndjson"
    first = head.lstrip()[:1]
    if first == b"[":
        return "json"
    if first == b"{":
        return "ndjson"
    return "csv"


def _is_one_pretty_object(path: Path) -> bool:
    """A file starting with `{` whose first line is not a whole JSON value: one object?"""
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                try:
                    parse_body(line.removeprefix(b"\xef\xbb\xbf"))
                    return False
                except OrderSearchError:
                    break
    try:
        return isinstance(parse_body(path.read_bytes()), dict)
    except OrderSearchError:
        return False


def _count_lines(path: Path, *, non_blank: bool = False) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip()) if non_blank else sum(1 for _ in handle)


def _as_body(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    if isinstance(value, dict):
        return value, None
    return None, f"is not a JSON object (an add-update body), but {type(value).__name__}"


def _ndjson_elements(path: Path) -> Iterator[Element]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw
            if not line.strip():
                continue
            try:
                body, error = _as_body(parse_body(line))
            except OrderSearchError as exc:
                body, error = None, exc.message
            yield Element(number, body, error)


def _json_elements(path: Path) -> list[Element]:
    try:
        value = parse_body(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    except OrderSearchError as exc:
        raise ImportFileError(f"{path}: {exc.message}") from None
    if isinstance(value, dict):
        return [Element(1, value)]
    if not isinstance(value, list):
        raise ImportFileError(f"{path}: expected a JSON array of add-update bodies")
    return [Element(index, *_as_body(item)) for index, item in enumerate(value, start=1)]


def _csv_header_and_lines(path: Path) -> tuple[list[str], int]:
    """The checked header, and the number of lines; the whole file must be UTF-8 CSV."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [column.strip() for column in next(reader, [])]
            for _ in reader:
                pass
            lines = reader.line_num
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path} is not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise ImportFileError(f"{path}: not readable as CSV ({exc})") from None
    if not any(header):
        raise ImportFileError(f"{path}: the first line must be a header naming the columns")
    seen: set[str] = set()
    for column in header:
        if any(not part for part in column.split(".")):
            raise ImportFileError(f"{path}: empty column name or path segment in {column!r}")
        if column in seen:
            raise ImportFileError(f"{path}: column {column!r} appears twice")
        seen.add(column)
    return header, lines


def _csv_elements(path: Path, header: list[str]) -> Iterator[Element]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        start = reader.line_num + 1
        for cells in reader:
            position, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            try:
                yield Element(position, body_from_flat_row(header, cells))
            except ValueError as exc:
                yield Element(position, None, str(exc))


def body_from_flat_row(header: Sequence[str], cells: Sequence[str]) -> dict[str, Any]:
    """One CSV row as an add-update body; ValueError names the column that is wrong."""
    if len(cells) > len(header):
        raise ValueError(f"has {len(cells)} cells but the header has {len(header)} columns")
    body: dict[str, Any] = {}
    for column, cell in zip(header, cells, strict=False):
        if not cell.strip():
            continue
        path = column.split(".")
        _put(body, path, _cell_value(column, path[-1], cell))
    return _lists_in_place(body)


def _cell_value(column: str, name: str, cell: str) -> Any:
    if name in JSON_FIELDS:
        try:
            value = orjson.loads(cell)
        except orjson.JSONDecodeError:
            raise ValueError(f"{column}: not valid JSON: {cell[:60]!r}") from None
        expected, kind = (list, "array") if name in LIST_FIELDS else (dict, "object")
        if not isinstance(value, expected):
            raise ValueError(f"{column}: expected a JSON {kind}")
        return value
    if name in BOOLEAN_FIELDS:
        word = cell.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError(f"{column}: {cell!r} is not true or false")
        return word in TRUE_WORDS
    return cell


def _put(body: dict[Any, Any], path: list[str], value: Any) -> None:
    node = body
    for depth in range(len(path) - 1):
        key = _key(path, depth)
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ValueError(f"{'.'.join(path)}: {'.'.join(path[: depth + 1])} is given twice")
        node = child
    last = _key(path, len(path) - 1)
    if last in node:
        raise ValueError(f"{'.'.join(path)}: given twice")
    node[last] = value


def _key(path: list[str], depth: int) -> str | int:
    """A numbered segment right under a list field is a 1-based item number."""
    segment = path[depth]
    if depth > 0 and path[depth - 1] in LIST_FIELDS and segment.isdigit() and int(segment) > 0:
        return int(segment)
    return segment


def _lists_in_place(node: dict[Any, Any]) -> dict[str, Any]:
    for key, value in node.items():
        if isinstance(value, dict):
            if key in LIST_FIELDS and value and all(isinstance(k, int) for k in value):
                node[key] = [_lists_in_place(value[k]) for k in sorted(value)]
            else:
                _lists_in_place(value)
    return node


# --- applying --------------------------------------------------------------------------


IMPORT_BATCH = 500


def import_elements(
    database: Database, account: Account, elements: Iterable[Element]
) -> Iterator[Outcome]:
    """Apply the bodies `IMPORT_BATCH` at a time (`ingest_batch`: one commit per batch,
    each element atomic on its own); failures do not stop the rest. Outcomes come after
    their batch is committed."""
    batch: list[Element] = []
    for element in elements:
        batch.append(element)
        if len(batch) == IMPORT_BATCH:
            yield from _import_batch(database, account, batch)
            batch = []
    if batch:
        yield from _import_batch(database, account, batch)


def _import_batch(database: Database, account: Account, batch: list[Element]) -> list[Outcome]:
    readable = [element for element in batch if element.body is not None]
    results = iter(ingest_batch(database, account, [element.body for element in readable]))
    outcomes = []
    for element in batch:
        if element.body is None:
            outcomes.append(Outcome(element.position, False, element.error or "unreadable"))
            continue
        result = next(results)
        outcomes.append(Outcome(
            element.position, result["status"] == "success", str(result["message"]),
            tuple(result.get("warnings") or ()),
        ))
    return outcomes


# --- employees -------------------------------------------------------------------------

EMPLOYEE_COLUMNS = ("code", "name", "email", "id")


def import_employees(database: Database, account: Account, path: Path) -> Iterator[Outcome]:
    """Register the employees of a CSV file (header code,name,email,id; email and id may be
    left out or empty), each line on its own."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path} is not UTF-8 text ({exc.reason})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [column.strip().lower() for column in next(reader, [])]
    unknown = [column for column in header if column not in EMPLOYEE_COLUMNS]
    if unknown or "code" not in header or "name" not in header:
        raise ImportFileError(
            f"{path}: the header must name the columns code,name and optionally email,id"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    start = reader.line_num + 1
    for cells in reader:
        position, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        yield _import_employee(database, account, position, dict(zip(header, cells, strict=False)))


def _import_employee(
    database: Database, account: Account, position: int, row: dict[str, str]
) -> Outcome:
    emp_id_text = (row.get("id") or "").strip()
    try:
        emp_id = parse_int(emp_id_text) if emp_id_text else None
    except ValueError as exc:
        return Outcome(position, False, f"id: {exc}")
    try:
        with database.write() as conn:
            employee = accounts_service.add_employee(
                conn, account, code=(row.get("code") or "").strip(),
                name=(row.get("name") or "").strip(), email=row.get("email") or None,
                emp_id=emp_id,
            )
    except OrderSearchError as exc:
        return Outcome(position, False, exc.message)
    return Outcome(position, True, f"employee {employee.emp_id} ({employee.code})")
