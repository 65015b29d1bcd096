"""The OpenAPI document of the three POST endpoints: request bodies, every answer, auth.

The routes read the raw body themselves (lenient JSON, comments, strings or numbers), so
nothing here validates a request: the document is documentation, and the input of the
schema-driven fuzz tests (tests/fuzz/). To keep it from drifting from the code it is
generated from the same tables the code runs on:

- the Pull body from `search.filters.FILTERS` and `CONTROL_KEYS` (a key added there
  appears here, in the right form for its kind, or the build fails);
- the orders of a Pull answer from `search.render` (the keys of each view, in answer
  order) and the columns of `db.tables` (type and nullability of each value);
- the add-update body from the sections of `ingest.parse` (every key each section reads).

Request schemas accept everything the server accepts (a string or a number wherever the
server takes both, `""` and `null` for "not given", comma lists, arrays), and reject what
it always rejects where that is simple to say (a non-integer id, a `limit` of 0, a NUL
character, an unknown sort field). Response schemas say exactly what the server returns.
Patterns use Python's reading of `\\s` (Unicode white space), as the server does.

`install_openapi(app)` adds the shared components and HTTP Basic security to FastAPI's
document; each route takes its operation from `PULL_OPERATION`, `EXPORT_OPERATION` or
`ADD_UPDATE_OPERATION` through `openapi_extra`. Served at `/openapi.json`, shown at `/docs`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy import JSON, Column, DateTime, Float, Integer, String, Table, Text

from ordersearch.config import MAX_BODY_BYTES
from ordersearch.db.tables import contacts, customers, enquiries, order_items, orders
from ordersearch.ingest import parse as ingest_parse
from ordersearch.ingest.parse import CONTACT, CUSTOMER, ENQUIRY, ITEM, ORDER, Section
from ordersearch.ingest.service import MAX_BATCH
from ordersearch.search.export import FORMATS
from ordersearch.search.filters import CONTROL_KEYS, FILTERS, FilterSpec, Kind
from ordersearch.search.parse import MAX_LIMIT, MAX_LIST_ITEMS, MAX_TEXT_LENGTH, VIEWS
from ordersearch.search.render import (
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    ENQUIRY_FIELDS,
    ITEM_FIELDS,
    VIEW_FIELDS,
)
from ordersearch.search.sorting import SORT_FIELDS
from ordersearch.values import MAX_BIGINT

Schema = dict[str, Any]

REF = "#/components/schemas/"
SECURITY_SCHEME = "basicAuth"


def ref(name: str) -> Schema:
    return {"$ref": REF + name}


# --- value forms ---------------------------------------------------------------------

NULL: Schema = {"type": "null"}
BLANK: Schema = {"type": "string", "pattern": r"^\s*$", "description": "blank: not given"}
NO_NUL = r"^[^\x00]*$"
TEXT: Schema = {"type": "string", "pattern": NO_NUL}
INT_TOKEN = r"[+-]?[0-9]+"


def _any_of(*schemas: Schema, description: str | None = None) -> Schema:
    schema: Schema = {"anyOf": list(schemas)}
    if description:
        schema["description"] = description
    return schema


def _integer(minimum: int = -MAX_BIGINT, maximum: int = MAX_BIGINT) -> Schema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def _int_like(
    minimum: int, maximum: int, string_pattern: str, *, blank: bool = True
) -> Schema:
    """An integer as a JSON number or as a digit string (blanks around it allowed)."""
    number = _integer(minimum, maximum)
    text = {"type": "string", "pattern": string_pattern}
    return _any_of(NULL, number, text) if blank else _any_of(number, text)


# Characters other than A-Z whose `str.lower()` is an ASCII letter: the server compares
# keywords (sort fields, asc/desc, true/false, csv) with `.lower()`, so the patterns must
# accept these too. tests/fuzz/test_openapi.py checks the list against all of Unicode.
LOWER_EXTRAS = {"k": "\u212a"}  # KELVIN SIGN


def _caseless(word: str) -> str:
    """A regex matching `word` whatever the case, as `.lower()` compares it."""
    parts = []
    for char in word:
        if char.isascii() and char.isalpha():
            lower = char.lower()
            parts.append(f"[{lower.upper()}{lower}{LOWER_EXTRAS.get(lower, '')}]")
        else:
            parts.append(char if char.isalnum() else "\\" + char)
    return "".join(parts)


def _up_to(limit: int) -> str:
    """A regex for the integers 1..limit written without leading zeros."""
    digits = str(limit)
    alternatives = []
    if len(digits) > 1:
        alternatives.append(f"[1-9][0-9]{{0,{len(digits) - 2}}}")
    for position, digit in enumerate(digits):
        low = 1 if position == 0 else 0
        if int(digit) > low:
            rest = len(digits) - position - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            alternatives.append(f"{digits[:position]}[{low}-{int(digit) - 1}]{tail}")
    alternatives.append(digits)
    return "|".join(alternatives)


def _sort_pattern() -> str:
    names = "|".join(_caseless(name) for name in SORT_FIELDS)
    directions = f"{_caseless('asc')}|{_caseless('desc')}"
    return rf"^\s*([+-]?({names})|({names})\s+({directions}))?\s*$"


# An id list: `12`, `"12, 15,19"`, `[12, "15", 19]`; blanks and `null` dropped.
ID_LIST_STRING = rf"^\s*({INT_TOKEN})?\s*(,\s*({INT_TOKEN})?\s*)*$"
INT_OR_BLANK_STRING = rf"^\s*({INT_TOKEN})?\s*$"
LIMIT_STRING = rf"^\s*(\+?0*({_up_to(MAX_LIMIT)}))?\s*$"
VIEW_STRING = rf"^\s*(\+?0*({_up_to(max(VIEWS))}))?\s*$"
_ID_ITEM = _any_of(NULL, _integer(), {"type": "string", "pattern": INT_OR_BLANK_STRING})
_TEXT_ITEM = _any_of(NULL, TEXT, {"type": "number"})

_KIND_SCHEMAS: dict[Kind, Schema] = {
    Kind.ID_LIST: _any_of(
        NULL,
        _integer(),
        {"type": "string", "pattern": ID_LIST_STRING},
        {"type": "array", "items": _ID_ITEM},
        description=(
            "Integer ids (absolute value below 2^63): one number, a comma-separated string "
            f"(`\"12, 15,19\"`) or an array; at most {MAX_LIST_ITEMS} ids. Any of them."
        ),
    ),
    Kind.TEXT_LIST: _any_of(
        NULL,
        TEXT,
        {"type": "number"},
        {"type": "array", "items": _TEXT_ITEM},
        description=(
            "Values compared case-insensitively (Unicode case folding), whole value: a "
            "comma-separated string, one number, or an array (array items are not split at "
            f"commas). At most {MAX_LIST_ITEMS} values of at most {MAX_TEXT_LENGTH} "
            "characters, no NUL. Any of them."
        ),
    ),
    Kind.EXACT_LIST: _any_of(
        NULL,
        TEXT,
        {"type": "number"},
        {"type": "array", "items": _TEXT_ITEM},
        description=(
            "Values compared exactly (case kept): a comma-separated string, one number, or "
            f"an array. At most {MAX_LIST_ITEMS} values of at most {MAX_TEXT_LENGTH} "
            "characters, no NUL. Any of them."
        ),
    ),
    Kind.PHONE: _any_of(
        NULL,
        TEXT,
        {"type": "number"},
        {"type": "array", "items": _TEXT_ITEM},
        description=(
            "Phone numbers, only their digits compared (each value must have one): 10 or "
            "more digits match on the last 10, fewer match exactly. A comma-separated "
            "string, one number, or an array."
        ),
    ),
    Kind.SUBSTRING: _any_of(
        NULL,
        TEXT,
        {"type": "number"},
        description=(
            f"Case-insensitive substring (at most {MAX_TEXT_LENGTH} characters, no NUL); "
            "`%`, `_`, `'` and `\\` are literal."
        ),
    ),
    Kind.FIELD_MAP: _any_of(
        NULL,
        BLANK,
        {
            "type": "object",
            "maxProperties": MAX_LIST_ITEMS,
            "additionalProperties": True,
        },
        description=(
            "`{key: value}` pairs, all of which must match the order's additional fields, "
            "compared as text, case-insensitively; blank values are ignored."
        ),
    ),
}

DATE: Schema = _any_of(
    NULL,
    TEXT,
    {"type": "number"},
    description=(
        "`yyyy-MM-dd` (or `yyyyMMdd`), `yyyy-MM-dd HH:mm[:ss]` (also with `T`), ISO 8601 "
        "with an offset or `Z`, or epoch milliseconds (a number or a digit string). Without "
        "an offset, read in the account's timezone; years 1000..9998."
    ),
)


def _filter_properties(spec: FilterSpec) -> dict[str, Schema]:
    if spec.kind is Kind.DATE_RANGE:
        assert spec.start_key and spec.end_key
        return {
            spec.start_key: {**DATE, "description": f"Start of the {spec.description} range "
                             f"(inclusive). {DATE['description']}"},
            spec.end_key: {**DATE, "description": f"End of the {spec.description} range "
                           "(inclusive; a date alone covers that whole day). "
                           f"{DATE['description']}"},
        }
    schema = _KIND_SCHEMAS[spec.kind]
    properties = {spec.key: {**schema, "description": f"Matches the {spec.description}. "
                             f"{schema['description']}"}}
    for alias in spec.aliases:
        # Read (and checked) only when the spellings before it are blank: see _alias_rules.
        properties[alias] = {"description": f"Another spelling of `{spec.key}`, same forms; "
                             "read only when the spellings before it are blank or absent."}
    return properties


def _alias_rules() -> list[Schema]:
    """A filter's other spellings are checked only when the ones before it are not given
    (the server reads the first non-blank one and ignores the rest unchecked)."""
    unset = _any_of(NULL, BLANK)
    rules = []
    for spec in FILTERS:
        for position, alias in enumerate(spec.aliases):
            earlier = (spec.key, *spec.aliases[:position])
            rules.append({
                "if": {"properties": {key: unset for key in earlier}},
                "then": {"properties": {alias: _KIND_SCHEMAS[spec.kind]}},
            })
    return rules


def _control_properties() -> dict[str, Schema]:
    properties: dict[str, Schema] = {
        "cmId": {
            **_int_like(1, MAX_BIGINT, r"^\s*\+?0*[1-9][0-9]*\s*$", blank=False),
            "description": "The account id (required, an integer > 0); must be the "
                           "authenticated user's account, else 403.",
        },
        "viewId": {
            **_int_like(min(VIEWS), max(VIEWS), VIEW_STRING),
            "description": "Fields of each order: 1 compact, 2 standard (default), 3 full.",
        },
        "sortParam": {
            **_any_of(NULL, {"type": "string", "pattern": _sort_pattern()}),
            "description": "`field`, `field asc|desc`, `+field` or `-field`; fields "
                           f"{', '.join(SORT_FIELDS)} (case-insensitive). Default "
                           "`createDate desc`.",
        },
        "limit": {
            **_int_like(1, MAX_LIMIT, LIMIT_STRING),
            "description": f"Orders per page, 1..{MAX_LIMIT} (default 50).",
        },
        "offset": {
            **_int_like(0, MAX_BIGINT, r"^\s*(\+?[0-9]+|-0+)?\s*$"),
            "description": "Orders to skip (default 0); only 0 with a cursor.",
        },
        "cursor": {
            **_any_of(NULL, TEXT),
            "description": "The `nextCursor` of the previous page, with the same filters "
                           "and sort.",
        },
        "includeTotal": {
            **_any_of(
                NULL,
                {"type": "boolean"},
                {"type": "string",
                 "pattern": rf"^\s*({_caseless('true')}|{_caseless('false')})?\s*$"},
            ),
            "description": "`false` skips counting (`totalCount` is then null). Default true.",
        },
    }
    missing = set(CONTROL_KEYS) - set(properties)
    assert not missing, f"control keys without a schema: {sorted(missing)}"
    return {key: properties[key] for key in CONTROL_KEYS}


def pull_body_schema() -> Schema:
    properties = _control_properties()
    for spec in FILTERS:
        properties.update(_filter_properties(spec))
    return {
        "type": "object",
        "description": (
            f"One JSON object of at most {MAX_BODY_BYTES} bytes, read as JSON whatever the "
            "Content-Type, `//` and `/* */` comments allowed outside strings. Every value may "
            "be a string or a number; `\"\"` and `null` mean \"not given\". At least one "
            "filter (any key but cmId, viewId, sortParam, limit, offset, cursor, "
            "includeTotal) must be given. Unknown keys are ignored and reported in "
            "`warnings`."
        ),
        "required": ["cmId"],
        "properties": properties,
        "allOf": _alias_rules(),
        "additionalProperties": True,
    }


def export_body_schema() -> Schema:
    body = pull_body_schema()
    formats = "|".join(_caseless(name) for name in FORMATS)
    body["properties"]["format"] = {
        **_any_of(NULL, {"type": "string", "pattern": rf"^\s*({formats})?\s*$"}),
        "description": f"{' or '.join(FORMATS)} (default ndjson).",
    }
    body["description"] = (
        "A Pull Order body; `limit`, `offset` and `cursor` are checked but do not apply (an "
        "export is the whole result), plus `format`. " + body["description"]
    )
    return body


# The example body published with Kapture's Pull Order API, keys in its order. The published
# page writes it one key per line with `//Required field, value must be > 0.` after cmId.
SEED_PULL_EXAMPLE: dict[str, Any] = {
    "cmId": 1000298, "name": "", "phone": "", "email": "", "customerIds": "191696570",
    "leadIdStr": "", "enquiryIds": "", "clientReferenceIds": "",
    **{f"attr{i}": "" for i in range(1, 16)},
    "viewId": "2", "orderIds": "", "erpOrderId": "", "createStartDate": "", "createEndDate": "",
    "bookingStatus": "", "bookingSubStatus": "", "bookingStartDate": "", "bookingEndDate": "",
    "creatorIdStr": "", "assignIdStr": "", "zoneIdStr": "", "blockId": "", "unitId": "",
    "approvalDesignationIds": "", "agreementStartDate": "", "agreementEndDate": "",
    "erpInvoiceId": "", "sortParam": "", "limit": "", "offset": "",
}

# --- add-update bodies ---------------------------------------------------------------

ANY_JSON: Schema = {"description": "Any JSON value (kept as sent; at most 10,000 characters "
                    "as JSON, no NUL)."}
_UPDATE_FLAG = _any_of(
    NULL,
    {"type": "boolean"},
    {"type": "integer", "enum": [0, 1]},
    {"type": "string", "pattern": (
        rf"^\s*({_caseless('true')}|1|{_caseless('yes')}|{_caseless('false')}|0|"
        rf"{_caseless('no')})?\s*$"
    )},
    description="`true` overwrites the found record's fields with the non-empty values sent.",
)
_INGEST_INT = _int_like(-MAX_BIGINT, MAX_BIGINT, INT_OR_BLANK_STRING)
_INGEST_TEXT = _any_of(NULL, TEXT, {"type": "number"})
_INGEST_DECIMAL = _any_of(
    NULL, TEXT, {"type": "number"},
    description="A decimal number, at most 15 significant digits (string or number).",
)
_FIELDS_OBJECT = _any_of(
    NULL, BLANK, {"type": "object", "additionalProperties": True},
    description="`{key: value}` pairs, merged key by key into the stored ones.",
)


def _value_schema(section: Section, key: str) -> Schema:
    if key == section.id_key:
        return {**_INGEST_INT, "description": "An id of this account; 404 when it is not."}
    if key == "update":
        return _UPDATE_FLAG
    if key in section.extra:
        return ANY_JSON
    if key in section.employees:
        column, by = section.employees[key]
        return {**_INGEST_TEXT, "description": f"The employee's {by}, resolved against the "
                f"account's employees into `{column}`; 400 when none has it."}
    _column, parser = section.columns[key]
    forms: dict[Any, Schema] = {
        ingest_parse._text: _INGEST_TEXT,
        ingest_parse._phone: {**_INGEST_TEXT, "description": "A phone with at least one digit."},
        ingest_parse._integer: _INGEST_INT,
        ingest_parse._decimal: _INGEST_DECIMAL,
        ingest_parse._date: DATE,
        ingest_parse._fields: _FIELDS_OBJECT,
    }
    return forms[parser]


def _section_schema(section: Section, children: dict[str, Schema] | None = None) -> Schema:
    keys = [*([section.id_key] if section.id_key else []), *section.columns, *section.employees,
            *sorted(section.extra), *(["update"] if section.has_update else [])]
    properties = {key: _value_schema(section, key) for key in keys}
    properties.update(children or {})
    missing = section.known - set(properties)
    assert not missing, f"{section.table.name}: keys without a schema: {sorted(missing)}"
    return {"type": "object", "properties": properties, "additionalProperties": True}


def _one_or_many(name: str) -> Schema:
    """A list section: an array (blank entries skipped) or a single object."""
    entry = _any_of(NULL, BLANK, ref(name))
    return _any_of(NULL, BLANK, ref(name), {"type": "array", "items": entry})


def add_update_element_schema() -> Schema:
    return {
        "type": "object",
        "description": (
            "One order with its customer, contacts, enquiry and line items, written in one "
            "transaction. Unknown keys are ignored and reported in `warnings`; blank values "
            "(`\"\"`, `null`) never change a stored value."
        ),
        "required": ["order_info"],
        "properties": {
            "cmId": {
                **_int_like(-MAX_BIGINT, MAX_BIGINT, INT_OR_BLANK_STRING),
                "description": "Optional; when given it must be the authenticated account's "
                               "cmId, else 403.",
            },
            "customer_info": _any_of(NULL, BLANK, ref("AddUpdateCustomer")),
            "contact_info": _one_or_many("AddUpdateContact"),
            "enquiry_info": _any_of(NULL, BLANK, ref("AddUpdateEnquiry")),
            "order_info": ref("AddUpdateOrder"),
        },
        "additionalProperties": True,
    }


ADD_UPDATE_EXAMPLE: dict[str, Any] = {
    "cmId": 1000298,
    "customer_info": {"customer_code": "CUST-7001", "customer_name": "Meera Iyer",
                      "phone": "+91 98860 11223", "email_id": "meera.iyer@example.com",
                      "city": "Bengaluru", "country": "India", "update": False},
    "contact_info": [{"contact_person_name": "Arun Iyer", "contact_person_phone": "9886011224"}],
    "enquiry_info": {"status": "Won", "subStatus": "Booking Done", "assign_emp_id": "5004"},
    "order_info": {
        "erp_order_id": "SO-2024-0001", "booking_status": "Booked", "booking_date": "2024-03-02",
        "amount": "7250000.00", "currency": "INR", "attr1": "Tower A",
        "additional_fields": {"floor": 9},
        "product_details": [{"sku_id": "UNIT-A-0902", "product_name": "2 BHK, Tower A",
                             "rate": "7250000.00", "quantity": 1}],
    },
}

# --- answers -------------------------------------------------------------------------


def _column_schema(column: Column[Any]) -> Schema:
    kind = column.type
    schema: Schema
    if isinstance(kind, Integer):
        schema = {"type": "integer"}
    elif isinstance(kind, DateTime):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(kind, Float):
        schema = {"type": "number"}
    elif isinstance(kind, String | Text):
        schema = {"type": "string"}
    elif isinstance(kind, JSON):
        schema = {"type": "object"}
    else:  # pragma: no cover - a new column type must be described here
        raise TypeError(f"no schema for column {column} of type {kind!r}")
    if column.nullable and not column.primary_key:
        schema["type"] = [schema["type"], "null"]
    return schema


def _shape_schema(fields: tuple[tuple[str, str], ...], table: Table) -> Schema:
    """The object `render._shape` makes of a row of `table` (keys in that order, all present)."""
    properties = {key: _column_schema(table.c[row_key]) for key, row_key in fields}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _order_column(row_key: str) -> Column[Any]:
    # A page row holds every `orders` column and the customer's name, phone and email
    # labelled `customer_<column>` (search/query.py).
    if row_key in orders.c:
        return orders.c[row_key]
    assert row_key.startswith("customer_"), row_key
    return customers.c[row_key.removeprefix("customer_")]


def _order_schema(view: int, description: str) -> Schema:
    properties = {key: _column_schema(_order_column(row_key)) for key, row_key in VIEW_FIELDS[view]}
    if view == 3:
        properties["items"] = {"type": "array", "items": ref("OrderItem")}
        properties["additionalFields"] = {"type": "object"}
        properties["customer"] = {"anyOf": [ref("Customer"), NULL]}
        properties["enquiry"] = {"anyOf": [ref("Enquiry"), NULL]}
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _customer_schema() -> Schema:
    schema = _shape_schema(CUSTOMER_FIELDS, customers)
    schema["properties"]["contacts"] = {"type": "array", "items": ref("Contact")}
    schema["required"].append("contacts")
    return schema


FIELD_ERROR: Schema = {
    "type": "object",
    "properties": {
        "field": {"type": "string", "description": "The key as sent, with its path."},
        "message": {"type": "string", "description": "What is wrong, quoting the value."},
    },
    "required": ["field", "message"],
    "additionalProperties": False,
}


def _failure(*, with_errors: bool, min_errors: int = 0) -> Schema:
    properties: Schema = {
        "status": {"const": "failed"},
        "message": {"type": "string", "minLength": 1},
    }
    if with_errors:
        properties["errors"] = {"type": "array", "items": ref("FieldError"),
                                "minItems": min_errors}
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


ADD_UPDATE_SUCCESS: Schema = {
    "type": "object",
    "properties": {
        "status": {"const": "success"},
        "message": {"enum": ["Order Added Successfully", "Order Updated Successfully"]},
        "order_id": {"type": "integer"},
        "customer_id": {"type": "integer"},
        "enquiry_id": {"type": ["integer", "null"]},
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["status", "message", "order_id", "customer_id", "enquiry_id", "warnings"],
    "additionalProperties": False,
}

PULL_ANSWER: Schema = {
    "type": "object",
    "properties": {
        "status": {"const": "success"},
        "message": {"const": "Orders fetched successfully"},
        "cmId": {"type": "integer"},
        "totalCount": {"type": ["integer", "null"], "minimum": 0,
                       "description": "Every matching order; null with includeTotal false."},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
        "offset": {"type": "integer", "minimum": 0},
        "orders": {"type": "array", "items": {"oneOf": [ref(f"OrderView{view}")
                                                        for view in VIEWS]}},
        "nextCursor": {"type": ["string", "null"],
                       "description": "The cursor of the next page; null on the last page."},
        "warnings": {"type": "array", "items": {"type": "string"},
                     "description": "One per unknown key ignored."},
    },
    "required": ["status", "message", "cmId", "totalCount", "limit", "offset", "orders",
                 "nextCursor", "warnings"],
    "additionalProperties": False,
}


def component_schemas() -> dict[str, Schema]:
    return {
        "PullBody": pull_body_schema(),
        "ExportBody": export_body_schema(),
        "AddUpdateElement": add_update_element_schema(),
        "AddUpdateCustomer": _section_schema(CUSTOMER),
        "AddUpdateContact": _section_schema(CONTACT),
        "AddUpdateEnquiry": _section_schema(ENQUIRY),
        "AddUpdateOrder": _section_schema(
            ORDER, {"product_details": _one_or_many("AddUpdateProduct")}
        ),
        "AddUpdateProduct": _section_schema(ITEM),
        "PullAnswer": PULL_ANSWER,
        "OrderView1": _order_schema(1, "View 1, compact."),
        "OrderView2": _order_schema(2, "View 2, standard (the default)."),
        "OrderView3": _order_schema(3, "View 3, full: view 2 plus items, additional fields, "
                                       "the customer with its contacts, the enquiry."),
        "OrderItem": _shape_schema(ITEM_FIELDS, order_items),
        "Customer": _customer_schema(),
        "Contact": _shape_schema(CONTACT_FIELDS, contacts),
        "Enquiry": _shape_schema(ENQUIRY_FIELDS, enquiries),
        "AddUpdateSuccess": ADD_UPDATE_SUCCESS,
        "AddUpdateElementFailure": {
            **_failure(with_errors=True),
            "description": "A failed element of an array: `errors` names the fields of a "
                           "400-type failure and is empty for the others (403, 404, 500).",
        },
        "FieldError": FIELD_ERROR,
        "Failure": _failure(with_errors=False),
        "InvalidRequest": _failure(with_errors=True, min_errors=1),
    }


# --- operations ----------------------------------------------------------------------


def _json(schema: Schema, description: str, **extra: Any) -> Schema:
    return {"description": description,
            "content": {"application/json": {"schema": schema}}, **extra}


def _header(description: str, schema: Schema) -> Schema:
    return {"description": description, "required": True, "schema": schema}


def _error_responses(*, not_found: bool = False, forbidden: str) -> dict[str, Schema]:
    responses = {
        "400": _json(ref("InvalidRequest"), "The body breaks a rule: malformed JSON, not an "
                     "object, a bad value. `errors` names every bad field."),
        "401": _json(ref("Failure"), "Missing, malformed or wrong credentials, a disabled "
                     "user, or the wrong subdomain: `Invalid Auth Key`.",
                     headers={"WWW-Authenticate": _header(
                         "Always `Basic realm=\"ordersearch\"`.", {"type": "string"})}),
        "403": _json(ref("Failure"), forbidden),
        "405": _json(ref("Failure"), "A method other than POST on this path.",
                     headers={"Allow": _header("`POST`.", {"type": "string"})}),
        "413": _json(ref("Failure"), f"The body is larger than {MAX_BODY_BYTES} bytes (1 MiB)."),
        "429": _json(ref("Failure"), "Too many failed logins for this username or from this "
                     "address (10 in 5 minutes); retry after the cool-down.",
                     headers={"Retry-After": _header("Seconds to wait.", {"type": "integer"})}),
        "500": _json(ref("Failure"), "A fault of the server (logged there), "
                     "`Internal server error`; never a trace."),
    }
    if not_found:
        responses["404"] = _json(ref("Failure"), "An `order_id`, `customer_id`, `enquiry_id` "
                                 "that is not the account's, or a `contact_id` that is not "
                                 "the customer's.")
    return dict(sorted(responses.items()))


_PULL_FORBIDDEN = "`cmId` is not the authenticated account's."

PULL_OPERATION: Schema = {
    "operationId": "pullOrders",
    "tags": ["Pull Order"],
    "description": (
        "Kapture CRM's Pull Order API: one page of the account's orders matching every "
        "filter given. See docs/pull-orders.md. The body may also be sent exactly as "
        "published, one key per line with `//Required field, value must be > 0.` after cmId."
    ),
    "requestBody": {
        "required": True,
        "content": {"application/json": {
            "schema": ref("PullBody"),
            "examples": {
                "published": {"summary": "The example body of the published API page",
                              "value": SEED_PULL_EXAMPLE},
                "compact": {"summary": "One customer's orders, compact view, newest first",
                            "value": {"cmId": 1000298, "customerIds": "191696570",
                                      "viewId": 1}},
            },
        }},
    },
    "responses": {
        "200": _json(ref("PullAnswer"), "The page (also when nothing matches)."),
        **_error_responses(forbidden=_PULL_FORBIDDEN),
    },
    "security": [{SECURITY_SCHEME: []}],
}

EXPORT_OPERATION: Schema = {
    "operationId": "exportOrders",
    "tags": ["Pull Order"],
    "description": (
        "Every order matching a Pull body, streamed as NDJSON (one order of the chosen view "
        "per line) or CSV (a header row, then one row per order; objects as JSON text)."
    ),
    "requestBody": {
        "required": True,
        "content": {"application/json": {
            "schema": ref("ExportBody"),
            "example": {"cmId": 1000298, "bookingStatus": "Booked", "viewId": 1,
                        "format": "csv"},
        }},
    },
    "responses": {
        "200": {
            "description": "The export, streamed.",
            "content": {
                FORMATS["ndjson"]: {"schema": {"type": "string"}},
                FORMATS["csv"].split(";")[0]: {"schema": {"type": "string"}},
            },
        },
        **_error_responses(forbidden=_PULL_FORBIDDEN),
    },
    "security": [{SECURITY_SCHEME: []}],
}

ADD_UPDATE_OPERATION: Schema = {
    "operationId": "addUpdateOrders",
    "tags": ["Ingest"],
    "description": (
        "Adds or updates one order with its customer, contacts, enquiry and items (one "
        f"object), or up to {MAX_BATCH} of them (an array; each element its own transaction, "
        "answered in place). Needs a user with role `write`. See docs/add-update.md."
    ),
    "requestBody": {
        "required": True,
        "content": {"application/json": {
            "schema": {"oneOf": [
                ref("AddUpdateElement"),
                {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                 "items": ref("AddUpdateElement")},
            ]},
            "examples": {
                "one": {"summary": "One order", "value": ADD_UPDATE_EXAMPLE},
                "batch": {"summary": "An array of orders",
                          "value": [ADD_UPDATE_EXAMPLE,
                                    {"customer_info": {"customer_code": "CUST-7001"},
                                     "order_info": {"erp_order_id": "SO-2024-0002",
                                                    "amount": 1850000}}]},
            },
        }},
    },
    "responses": {
        "200": _json(
            {"oneOf": [
                ref("AddUpdateSuccess"),
                {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                 "items": {"oneOf": [ref("AddUpdateSuccess"), ref("AddUpdateElementFailure")]}},
            ]},
            "One object: its result. An array: one result per element, in order.",
        ),
        **_error_responses(
            not_found=True,
            forbidden="The user's role is `read`, or `cmId` is not the authenticated "
                      "account's.",
        ),
    },
    "security": [{SECURITY_SCHEME: []}],
}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(component_schemas())
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "basic",
            "description": "An API user's username and password (`ordersearch users create`).",
        }
    }
    document["security"] = [{SECURITY_SCHEME: []}]
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the document built here at /openapi.json (and so at /docs), built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
