"""The web console at /console: server-rendered pages and a little JavaScript.

The pages carry no data and need no credentials: the browser signs in with an API user's
Basic credentials (kept in sessionStorage by console.js) and calls the JSON API with fetch,
as any client would. The search form is generated from `FILTERS`, so every Pull filter is in
it and a new filter shows up by itself (in the group its key suggests, else "Other").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response

from ordersearch.api.deps import CurrentPrincipal
from ordersearch.api.responses import JSONResponse
from ordersearch.api.routes import EXPORT_PATH, PULL_PATH
from ordersearch.search.filters import FILTERS, FilterSpec, Kind
from ordersearch.search.render import VIEW_FIELDS
from ordersearch.search.sorting import SORT_FIELDS

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_FILES = {"console.css": "text/css", "console.js": "text/javascript"}
ME_PATH = "/console/api/me"
# The chart reads at most this many orders from the export stream.
CHART_ROW_CAP = 20_000
DEFAULT_LIMIT = 25

templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/console", include_in_schema=False)

# Group title -> filter keys, in form order. Dates, custom attributes and additional fields
# are recognised by kind or name; a filter named nowhere lands in "Other".
GROUP_ORDER = (
    "Customer", "Order", "Dates", "Enquiry / lead", "Employees & inventory",
    "Custom attributes", "Additional fields", "Other",
)
NAMED_GROUPS = {
    "Customer": ("customerIds", "name", "phone", "email", "city", "state", "country"),
    "Order": (
        "orderIds", "erpOrderId", "erpInvoiceId", "clientReferenceIds", "bookingStatus",
        "bookingSubStatus", "pricingStatus",
    ),
    "Enquiry / lead": (
        "enquiryIds", "statusStr", "subStatusStr", "leadPriorityStr", "secondarySourceId",
    ),
    "Employees & inventory": (
        "creatorIdStr", "assignIdStr", "creatorOrAssignedIdStr", "assignToIdsStr",
        "notAssignToIdsStr", "approvedIds", "approvalDesignationIds", "zoneIdStr", "blockId",
        "unitId",
    ),
}
_GROUP_OF_KEY = {key: group for group, keys in NAMED_GROUPS.items() for key in keys}

PLACEHOLDERS = {
    Kind.ID_LIST: "ids, comma-separated",
    Kind.EXACT_LIST: "exact values, comma-separated",
    Kind.TEXT_LIST: "values, comma-separated",
    Kind.SUBSTRING: "part of the name",
    Kind.PHONE: "phone numbers, comma-separated",
}
LABELS = {
    "customerIds": "Customer ids", "orderIds": "Order ids", "enquiryIds": "Enquiry (lead) ids",
    "clientReferenceIds": "Client reference ids", "erpOrderId": "ERP order ids",
    "erpInvoiceId": "ERP invoice ids", "name": "Name", "phone": "Phone", "email": "Email",
    "country": "Country", "city": "City", "state": "State",
    "bookingStatus": "Booking status", "bookingSubStatus": "Booking sub-status",
    "pricingStatus": "Pricing status", "statusStr": "Enquiry status",
    "subStatusStr": "Enquiry sub-status", "leadPriorityStr": "Lead priority",
    "creatorIdStr": "Creator ids", "assignIdStr": "Assignee ids",
    "creatorOrAssignedIdStr": "Creator or assignee ids",
    "assignToIdsStr": "Enquiry assignee ids", "notAssignToIdsStr": "Enquiry assignee not in",
    "approvedIds": "Approved by ids", "approvalDesignationIds": "Approval designation ids",
    "zoneIdStr": "Zone ids", "blockId": "Block ids", "unitId": "Unit ids",
    "secondarySourceId": "Secondary source ids",
}


@dataclass(frozen=True)
class FormField:
    """One filter as the form shows it."""

    spec: FilterSpec
    label: str
    placeholder: str

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def kind(self) -> str:
        return self.spec.kind.name.lower()

    @property
    def aliases(self) -> tuple[str, ...]:
        return self.spec.aliases


@dataclass(frozen=True)
class FormGroup:
    title: str
    fields: tuple[FormField, ...]

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-")


def _group_of(spec: FilterSpec) -> str:
    if spec.kind is Kind.DATE_RANGE:
        return "Dates"
    if spec.kind is Kind.FIELD_MAP:
        return "Additional fields"
    if spec.key.startswith("attr") and spec.key[4:].isdigit():
        return "Custom attributes"
    return _GROUP_OF_KEY.get(spec.key, "Other")


def _label(spec: FilterSpec) -> str:
    if spec.key in LABELS:
        return LABELS[spec.key]
    if spec.kind is Kind.DATE_RANGE:
        return spec.description[:1].upper() + spec.description[1:]
    return spec.key


def form_groups() -> tuple[FormGroup, ...]:
    """Every filter of `FILTERS`, grouped in GROUP_ORDER (empty groups left out)."""
    grouped: dict[str, list[FormField]] = {title: [] for title in GROUP_ORDER}
    for spec in FILTERS:
        grouped[_group_of(spec)].append(
            FormField(spec, _label(spec), PLACEHOLDERS.get(spec.kind, ""))
        )
    return tuple(
        FormGroup(title, tuple(fields)) for title, fields in grouped.items() if fields
    )


def form_keys() -> list[str]:
    """The body keys the form sends: each filter's key, or a date range's two keys."""
    keys: list[str] = []
    for spec in FILTERS:
        if spec.kind is Kind.DATE_RANGE:
            assert spec.start_key and spec.end_key
            keys += [spec.start_key, spec.end_key]
        else:
            keys.append(spec.key)
    return keys


def console_config() -> dict[str, Any]:
    """What console.js needs to know, rendered into the page as JSON."""
    return {
        "paths": {"pull": PULL_PATH, "export": EXPORT_PATH, "me": ME_PATH,
                  "signIn": "/console/sign-in", "console": "/console"},
        "views": {str(view): [key for key, _ in fields] for view, fields in VIEW_FIELDS.items()},
        "sortable": list(SORT_FIELDS),
        "chartRowCap": CHART_ROW_CAP,
        "dateKeys": [
            key for spec in FILTERS if spec.kind is Kind.DATE_RANGE
            for key in (spec.start_key, spec.end_key)
        ],
        "mapKeys": [spec.key for spec in FILTERS if spec.kind is Kind.FIELD_MAP],
    }


@router.get("", response_class=Response)
def console_page(request: Request) -> Response:
    return templates.TemplateResponse(
        request,
        "console.html",
        {
            "groups": form_groups(),
            "sort_fields": list(SORT_FIELDS),
            "default_limit": DEFAULT_LIMIT,
            "config": console_config(),
            "chart_row_cap": CHART_ROW_CAP,
        },
    )


@router.get("/sign-in", response_class=Response)
def sign_in_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "sign_in.html", {"config": console_config()})


@router.get("/static/{name}", response_class=Response)
def static_file(name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise HTTPException(404)
    return FileResponse(
        STATIC_DIR / name, media_type=media_type, headers={"Cache-Control": "no-cache"}
    )


@router.get("/api/me")
def me(principal: CurrentPrincipal) -> JSONResponse:
    """The signed-in user's account: the console puts its cmId into every body."""
    account = principal.account
    return JSONResponse(
        {
            "cmId": account.cm_id,
            "name": account.name,
            "subdomain": account.subdomain,
            "timezone": account.timezone,
            "username": principal.username,
            "role": principal.role,
        }
    )
