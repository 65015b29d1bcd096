"""The demo tenant: realistic, reproducible data for trying the API and for benchmarks.

`demo_rows` is pure: given an account id, an order count, a seed and the first free id of
each table, it yields `(table, row)` pairs ready to insert (derived columns included), in an
order that respects the foreign keys. `load_demo` creates the demo account if it is missing
and bulk-inserts those rows in one transaction.
"""

from __future__ import annotations

import random
import re
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from operator import itemgetter
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Table, func, select, text

from ordersearch import accounts as accounts_service
from ordersearch.db.engine import Database
from ordersearch.db.tables import (
    ATTR_NAMES,
    contacts,
    customers,
    enquiries,
    order_fields,
    order_items,
    orders,
)
from ordersearch.errors import InvalidRequest
from ordersearch.ingest.rows import additional_field_rows, with_derived
from ordersearch.tenancy import Account
from ordersearch.values import utc_now

DEMO_CM_ID = 1000298
DEMO_SUBDOMAIN = "demo"
DEMO_NAME = "Demo Realty"
DEMO_TIMEZONE = "Asia/Kolkata"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
DEMO_CUSTOMER_ID = 191696570  # the customer of the seed's example body
DEMO_ORDERS = 10_000
DEFAULT_SEED = 1000298

# Parents before children: flushing the buffers in this order never breaks a foreign key.
DEMO_TABLES: tuple[Table, ...] = (customers, contacts, enquiries, orders, order_items, order_fields)

Row = dict[str, Any]


@dataclass(frozen=True)
class DemoEmployee:
    emp_id: int
    code: str
    name: str
    email: str


def _slug(text_: str) -> str:
    return re.sub(r"[^a-z]", "", text_.lower())


def _employee(number: int, name: str) -> DemoEmployee:
    slug = ".".join(_slug(part) for part in name.split())
    return DemoEmployee(5000 + number, f"EMP{number:03d}", name, f"{slug}@demorealty.example")


DEMO_EMPLOYEES: tuple[DemoEmployee, ...] = tuple(
    _employee(number, name)
    for number, name in enumerate(
        [
            "Anil Kapoor", "Bhavna Iyer", "Chetan Rao", "Deepa Menon", "Farhan Qureshi",
            "Gayatri Joshi", "Harsh Vardhan", "Indu Pillai", "Jatin Malhotra", "Kiran Hegde",
            "Lavanya Reddy", "Mohit Agarwal", "Nandini Bose", "Omkar Kulkarni", "Pallavi Desai",
            "Qasim Ali", "Rekha Nair", "Sameer Khanna", "Tejas Patil", "Usha Krishnan",
        ],
        start=1,
    )
)


T = TypeVar("T")


class DemoRandom(random.Random):
    """`random.Random` with quick draws built on `random()` (the stdlib's `choice` and
    `randrange` cost several Python calls each; the generator makes millions of draws)."""

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self.random() * len(options))]

    def below(self, stop: int) -> int:
        return int(self.random() * stop)

    def between(self, low: int, high: int) -> int:
        """An integer in [low, high], both included."""
        return low + int(self.random() * (high - low + 1))

    def digits(self, count: int) -> str:
        return f"{self.below(10**count):0{count}d}"


class Weighted(Generic[T]):
    """A fixed weighted choice, its cumulative weights computed once."""

    def __init__(self, weights: Mapping[T, int]) -> None:
        self.options = list(weights)
        self.cumulative = list(accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def draw(self, rng: random.Random) -> T:
        return self.options[bisect_right(self.cumulative, rng.random() * self.total)]


# --- pools -----------------------------------------------------------------------------

INDIAN_FIRST = (
    "Rahul", "Priya", "Amit", "Sneha", "Arjun", "Ananya", "Vikram", "Kavya", "Rohan", "Divya",
    "Suresh", "Lakshmi", "Karthik", "Meera", "Aditya", "Pooja", "Sanjay", "Neha", "Venkatesh",
    "Deepika", "Manoj", "Swati", "Ravi", "Anjali", "Harish", "Shalini", "Imran", "Fatima",
    "Gurpreet", "Harpreet", "Joseph", "Mary", "Abhishek", "Ishita", "Nikhil", "Riya",
    "Siddharth", "Tanvi", "Varun", "Zoya", "Prakash", "Aarti", "Ramesh", "Sunita", "Ajay",
    "Nisha", "Sandeep", "Rekha", "Vivek", "Bhavya",
)
INDIAN_LAST = (
    "Sharma", "Verma", "Iyer", "Reddy", "Nair", "Patel", "Shah", "Gupta", "Singh", "Kumar",
    "Rao", "Menon", "Pillai", "Desai", "Joshi", "Mehta", "Chatterjee", "Banerjee", "Mukherjee",
    "Das", "Khan", "Siddiqui", "Fernandes", "D'Souza", "Kulkarni", "Deshpande", "Agarwal",
    "Bhat", "Hegde", "Naidu", "Krishnan", "Subramanian", "Malhotra", "Kapoor", "Chopra", "Gill",
    "Sandhu",
)
# (display name, ASCII form for the e-mail address)
DEVANAGARI_NAMES = (
    ("राहुल वर्मा", "rahul.verma"), ("सुनीता देवी", "sunita.devi"),
    ("अमित कुमार", "amit.kumar"), ("प्रिया शर्मा", "priya.sharma"),
)
INDIAN_CITIES = (  # city, state, pincode prefix, weight
    ("Bengaluru", "Karnataka", "560", 18), ("Mumbai", "Maharashtra", "400", 14),
    ("Pune", "Maharashtra", "411", 10), ("Hyderabad", "Telangana", "500", 12),
    ("Chennai", "Tamil Nadu", "600", 10), ("New Delhi", "Delhi", "110", 8),
    ("Gurugram", "Haryana", "122", 6), ("Noida", "Uttar Pradesh", "201", 5),
    ("Kolkata", "West Bengal", "700", 5), ("Ahmedabad", "Gujarat", "380", 4),
    ("Kochi", "Kerala", "682", 3), ("Jaipur", "Rajasthan", "302", 2),
    ("Mysuru", "Karnataka", "570", 2), ("Chandigarh", "Chandigarh", "160", 1),
)
INDIAN_PHONE_STYLES = ("+91 {a}-{b}", "0{n}", "+91-{n}", "+91{n}", "+91 {a} {b}", "{n}")
INDIAN_EMAIL_DOMAINS = ("gmail.com", "yahoo.co.in", "outlook.com", "rediffmail.com", "hotmail.com")
LOCALITIES = (
    "Whitefield", "Koramangala", "Indiranagar", "Andheri West", "Powai", "Baner", "Hinjewadi",
    "Gachibowli", "Madhapur", "Velachery", "Anna Nagar", "Salt Lake", "Sector 62", "DLF Phase 2",
)


@dataclass(frozen=True)
class Country:
    name: str
    first: tuple[tuple[str, str], ...]  # (display, ASCII)
    last: tuple[tuple[str, str], ...]
    places: tuple[tuple[str, str], ...]  # (city, state)
    phone: Callable[[DemoRandom], str]
    email_domain: str
    currency: str


INTERNATIONAL = (
    Country(
        "Germany",
        (("Jürgen", "juergen"), ("Käthe", "kaethe"), ("Stefan", "stefan"), ("Jörg", "joerg")),
        (("Müller", "mueller"), ("Schröder", "schroeder"), ("Weiß", "weiss"), ("Becker", "becker")),
        (("München", "Bayern"), ("Berlin", "Berlin"), ("Köln", "Nordrhein-Westfalen")),
        lambda rng: f"+49 89 {rng.digits(7)}", "web.de", "EUR",
    ),
    Country(
        "Poland",
        (("Łukasz", "lukasz"), ("Małgorzata", "malgorzata"), ("Paweł", "pawel")),
        (("Kowalski", "kowalski"), ("Wiśniewska", "wisniewska"), ("Nowak", "nowak")),
        (("Kraków", "Małopolskie"), ("Warszawa", "Mazowieckie"), ("Łódź", "Łódzkie")),
        lambda rng: f"+48 12 {rng.digits(3)} {rng.digits(2)} {rng.digits(2)}", "wp.pl",
        "EUR",
    ),
    Country(
        "Spain",
        (("José", "jose"), ("María", "maria"), ("Íñigo", "inigo")),
        (("García", "garcia"), ("Fernández", "fernandez"), ("Muñoz", "munoz")),
        (("Madrid", "Madrid"), ("Barcelona", "Cataluña"), ("Málaga", "Andalucía")),
        lambda rng: f"+34 91 {rng.digits(3)} {rng.digits(2)} {rng.digits(2)}", "gmail.com",
        "EUR",
    ),
    Country(
        "Russia",
        (("Дмитрий", "dmitry"), ("Анна", "anna"), ("Сергей", "sergey")),
        (("Иванов", "ivanov"), ("Смирнова", "smirnova"), ("Петров", "petrov")),
        (("Москва", "Москва"), ("Санкт-Петербург", "Санкт-Петербург")),
        lambda rng: f"+7 495 {rng.digits(3)}-{rng.digits(2)}-{rng.digits(2)}", "yandex.ru",
        "USD",
    ),
    Country(
        "United States",
        (("John", "john"), ("Emily", "emily"), ("Ravi", "ravi"), ("Sarah", "sarah")),
        (("Smith", "smith"), ("Johnson", "johnson"), ("Patel", "patel"), ("O'Brien", "obrien")),
        (("San Francisco", "California"), ("New York", "New York"), ("Austin", "Texas")),
        lambda rng: f"+1 ({rng.pick(['415', '212', '646', '650'])}) 555-{rng.digits(4)}",
        "gmail.com", "USD",
    ),
    Country(
        "United Arab Emirates",
        (("Mohammed", "mohammed"), ("Ayesha", "ayesha"), ("Faisal", "faisal")),
        (("Al Mansoori", "almansoori"), ("Khan", "khan"), ("Rahman", "rahman")),
        (("Dubai", "Dubai"), ("Abu Dhabi", "Abu Dhabi")),
        lambda rng: f"+971 50 {rng.digits(3)} {rng.digits(4)}", "outlook.com", "AED",
    ),
    Country(
        "United Kingdom",
        (("Oliver", "oliver"), ("Sophie", "sophie"), ("Arjun", "arjun")),
        (("Brown", "brown"), ("Taylor", "taylor"), ("Mehta", "mehta")),
        (("London", "England"), ("Leicester", "England"), ("Edinburgh", "Scotland")),
        lambda rng: f"+44 20 7946 {rng.digits(4)}", "btinternet.com", "GBP",
    ),
    Country(
        "France",
        (("François", "francois"), ("Zoë", "zoe"), ("Hélène", "helene")),
        (("Dubois", "dubois"), ("Martin", "martin"), ("Lefèvre", "lefevre")),
        (("Paris", "Île-de-France"), ("Lyon", "Auvergne-Rhône-Alpes")),
        lambda rng: f"+33 1 {rng.digits(2)} {rng.digits(2)} {rng.digits(2)} "
        f"{rng.digits(2)}",
        "orange.fr", "EUR",
    ),
)
INR_PER = {"INR": Decimal(1), "USD": Decimal(83), "EUR": Decimal(90), "GBP": Decimal(105),
           "AED": Decimal("22.6")}

ENQUIRY_STATUSES = {  # status: (weight, sub-statuses)
    "New": (8, ("Fresh Lead", "Not Reachable", "Call Back Later")),
    "Contacted": (10, ("Interested", "Details Shared", "Call Back Later")),
    "Site Visit": (12, ("Visit Scheduled", "Visit Done", "Revisit Planned")),
    "Negotiation": (15, ("Price Discussion", "Awaiting Approval", "Offer Made")),
    "Won": (45, ("Booking Done", "Token Received")),
    "Lost": (10, ("Budget Mismatch", "Bought Elsewhere", "Location Mismatch", "Not Interested")),
}
OPEN_ENQUIRY_STATUSES = ("New", "Contacted", "Site Visit", "Negotiation")
SECONDARY_SOURCES = (201, 202, 203, 204, 205, 206, 207, 208)  # website, portals, walk-in, ...

BOOKING_STATUSES = {  # status: (weight, sub-statuses)
    "Booked": (35, ("Token Received", "Booking Amount Paid", "Awaiting KYC")),
    "Agreement Signed": (25, ("Stamp Duty Paid", "Registration Scheduled")),
    "Registered": (20, ("Possession Pending", "Handed Over")),
    "Cancelled": (10, ("Refund Initiated", "Refund Completed", "Customer Withdrew")),
    "On Hold": (10, ("Loan Pending", "Documents Pending", "Price Revision")),
}
PRICING_STATUSES = {"Approved": 60, "Pending Approval": 20, "Revised": 12, "Rejected": 8}
APPROVAL_DESIGNATIONS = (301, 302, 303, 304)  # sales manager, regional head, VP, director
PAYMENT_MODES = ("Home Loan", "Bank Transfer", "Cheque", "UPI", "Demand Draft", "Cash")
PROJECTS = (  # zone id, project, towers
    (11, "Lakeside Habitat", "ABCDEF"), (12, "Dream Acres", "ABCD"),
    (13, "Cornerstone Utopia", "ABC"), (14, "Emerald Heights", "ABCDE"),
    (15, "Palm Meadows", "AB"), (16, "Skyline Crest", "ABCD"),
)
UNIT_TYPES = (  # type, order type, carpet area range (sq ft), price per sq ft range (INR)
    ("1 BHK", "Apartment", (450, 650), (6500, 11000)),
    ("2 BHK", "Apartment", (850, 1250), (6500, 12000)),
    ("3 BHK", "Apartment", (1300, 1900), (7000, 13000)),
    ("4 BHK", "Apartment", (2200, 3200), (8000, 15000)),
    ("Villa", "Villa", (2800, 4500), (9000, 16000)),
    ("Plot", "Plot", (1200, 2400), (3000, 7000)),
    ("Shop", "Commercial", (300, 900), (12000, 20000)),
)
FACINGS = ("East", "West", "North", "South", "North-East", "South-East", "North-West")
BANKS = ("HDFC Bank", "State Bank of India", "ICICI Bank", "Axis Bank", "Kotak Mahindra Bank",
         "LIC Housing Finance", None)
CHANNEL_PARTNERS = ("Direct", "Square Yards", "PropTiger", "NoBroker", "Anarock")
PARKING = ("Covered", "Open", "Stilt", "None")
VIEWS = ("Lake", "Garden", "City", "Pool", "Clubhouse")
EXTRAS = (  # sku, product, INR price
    ("PARK-COV", "Covered car parking", 350_000),
    ("CLUB-MEM", "Clubhouse membership", 250_000),
    ("MOD-KIT", "Modular kitchen package", 180_000),
    ("PLC-VIEW", "Preferred location charge", 120_000),
)
REMARKS = (
    "Customer prefers a higher floor", "Loan sanction awaited", "Registration on auspicious day",
    "NRI customer, documents via courier", "Requested corner unit", "Referred by existing owner",
    "Wants possession before Diwali",
)
THREE_YEARS = timedelta(days=3 * 365)
CENT = Decimal("0.01")


def _statuses(statuses: Mapping[str, tuple[int, tuple[str, ...]]]) -> Weighted[str]:
    return Weighted({status: weight for status, (weight, _) in statuses.items()})


ENQUIRY_STATUS = _statuses(ENQUIRY_STATUSES)
BOOKING_STATUS = _statuses(BOOKING_STATUSES)
PRICING_STATUS = Weighted(PRICING_STATUSES)
INDIAN_CITY = Weighted({(city, state, pin): weight for city, state, pin, weight in INDIAN_CITIES})
PRIORITY = Weighted({"Hot": 30, "Warm": 45, "Cold": 25})
CONTACT_COUNT = Weighted({0: 75, 1: 20, 2: 5})
EXTRA_COUNT = Weighted({0: 40, 1: 40, 2: 20})
ORDERS_PER_CUSTOMER = Weighted({1: 60, 2: 25, 3: 15})


class _Ids:
    """Hands out consecutive explicit ids per table, starting at the first free one."""

    def __init__(self, first_ids: Mapping[str, int]) -> None:
        self._next = {table.name: first_ids.get(table.name, 1) for table in DEMO_TABLES}

    def take(self, table: Table) -> int:
        value = self._next[table.name]
        if table is customers and value == DEMO_CUSTOMER_ID:
            value += 1
        self._next[table.name] = value + 1
        return value


@dataclass(frozen=True)
class _Person:
    name: str
    phone: str
    email: str | None
    city: str
    state: str
    country: str
    pincode: str | None
    address: str | None
    currency: str


SEED_CUSTOMER = _Person(
    "Rahul Sharma", "9380491257", "rahul.sharma@example.com", "Bengaluru", "Karnataka",
    "India", "560066", "42, Whitefield, Bengaluru", "INR",
)
SEED_CUSTOMER_ORDERS = 4


class _Generator:
    def __init__(self, account_id: int, rng: DemoRandom, ids: _Ids, now: datetime) -> None:
        self.account_id = account_id
        self.rng = rng
        self.ids = ids
        self.now = now
        self.employee_ids = [employee.emp_id for employee in DEMO_EMPLOYEES]

    # -- people ----------------------------------------------------------------------------

    def indian_mobile(self) -> str:
        number = SEED_CUSTOMER.phone
        while number == SEED_CUSTOMER.phone:
            number = self.rng.pick("6789") + self.rng.digits(9)
        return self.rng.pick(INDIAN_PHONE_STYLES).format(n=number, a=number[:5], b=number[5:])

    def email(self, first: str, last: str, domain: str) -> str | None:
        rng = self.rng
        if rng.random() < 0.1:
            return None
        suffix = str(rng.between(1, 998)) if rng.random() < 0.5 else ""
        local = rng.pick((f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}"))
        return f"{local}{suffix}@{domain}"

    def person(self) -> _Person:
        rng = self.rng
        roll = rng.random()
        if roll < 0.85 or roll >= 0.985:
            city, state, prefix = INDIAN_CITY.draw(rng)
            if roll >= 0.985:
                name, ascii_name = rng.pick(DEVANAGARI_NAMES)
                first, last = ascii_name.split(".")
            else:
                first, last = rng.pick(INDIAN_FIRST), rng.pick(INDIAN_LAST)
                name, first, last = f"{first} {last}", _slug(first), _slug(last)
            return _Person(
                name, self.indian_mobile(),
                self.email(first, last, rng.pick(INDIAN_EMAIL_DOMAINS)), city, state, "India",
                f"{prefix}{rng.between(1, 99):03d}",
                f"{rng.between(1, 399)}, {rng.pick(LOCALITIES)}, {city}",
                "INR",
            )
        country = rng.pick(INTERNATIONAL)
        first_name, first = rng.pick(country.first)
        last_name, last = rng.pick(country.last)
        city, state = rng.pick(country.places)
        return _Person(
            f"{first_name} {last_name}", country.phone(rng),
            self.email(first, last, country.email_domain), city, state, country.name, None, None,
            "INR" if rng.random() < 0.5 else country.currency,
        )

    def customer_row(self, customer_id: int, person: _Person, created_at: datetime) -> Row:
        rng = self.rng
        fields: dict[str, Any] = {}
        if rng.random() < 0.6:
            fields["occupation"] = rng.pick(
                ("Software Engineer", "Doctor", "Business Owner", "Consultant", "Teacher")
            )
        if rng.random() < 0.5:
            fields["budget_range"] = rng.pick(("30L-50L", "50L-1Cr", "1Cr-2Cr", "2Cr+"))
        return with_derived(customers, {
            "id": customer_id, "account_id": self.account_id,
            "customer_code": f"CUST{customer_id:09d}", "name": person.name, "phone": person.phone,
            "email": person.email, "city": person.city, "state": person.state,
            "country": person.country, "address": person.address, "pincode": person.pincode,
            "zone": rng.pick(("North", "South", "East", "West", "Central")),
            "additional_fields": fields, "created_at": created_at, "updated_at": created_at,
        })

    def contact_rows(self, customer_id: int, customer: _Person) -> Iterator[Row]:
        rng = self.rng
        count = CONTACT_COUNT.draw(rng)
        for _ in range(count):
            other = self.person()
            surname = customer.name.split()[-1]
            name = f"{other.name.split()[0]} {surname}"
            yield with_derived(contacts, {
                "id": self.ids.take(contacts), "account_id": self.account_id,
                "customer_id": customer_id, "name": name, "phone": other.phone,
                "email": other.email,
            })

    # -- dates -----------------------------------------------------------------------------

    def moment_before(self, latest: datetime, span: timedelta) -> datetime:
        """A moment in office hours (IST) within `span` before `latest`."""
        day = latest - timedelta(days=self.rng.below(max(span.days, 1)))
        start = day.replace(hour=3, minute=30, second=0, microsecond=0)  # 09:00 IST
        return min(start + timedelta(seconds=self.rng.below(11 * 3600)), latest)

    def after(self, moment: datetime, low_days: int, high_days: int) -> datetime:
        return moment + timedelta(days=self.rng.between(low_days, high_days),
                                  seconds=self.rng.below(6 * 3600))

    # -- enquiries, orders -----------------------------------------------------------------

    def enquiry_row(self, customer_id: int, order_created: datetime) -> Row:
        rng = self.rng
        status = ENQUIRY_STATUS.draw(rng)
        created = order_created - timedelta(days=rng.between(3, 120), seconds=rng.below(3600))
        last_follow_up = min(self.after(created, 1, 60), self.now)
        next_follow_up = (
            self.after(self.now - timedelta(days=10), 0, 40)
            if status in OPEN_ENQUIRY_STATUSES
            else None
        )
        return with_derived(enquiries, {
            "id": self.ids.take(enquiries), "account_id": self.account_id,
            "customer_id": customer_id, "status": status,
            "sub_status": rng.pick(ENQUIRY_STATUSES[status][1]),
            "priority": PRIORITY.draw(rng),
            "assign_emp_id": rng.pick(self.employee_ids),
            "creator_id": rng.pick(self.employee_ids),
            "secondary_source_id": rng.pick(SECONDARY_SOURCES) if rng.random() < 0.8 else None,
            "create_date": created, "next_follow_up_date": next_follow_up,
            "last_follow_up_date": last_follow_up,
            "expected_closure_date": self.after(created, 30, 180),
            "updated_at": max(last_follow_up, created),
        })

    def price(self, inr: Decimal, currency: str) -> Decimal:
        return (inr / INR_PER[currency]).quantize(CENT)

    def order_rows(
        self, customer_id: int, person: _Person, created: datetime
    ) -> Iterator[tuple[Table, Row]]:
        rng = self.rng
        order_id = self.ids.take(orders)
        enquiry_id = None
        if rng.random() < 0.85:
            enquiry = self.enquiry_row(customer_id, created)
            enquiry_id = enquiry["id"]
            yield enquiries, enquiry
        zone_id, project, towers = rng.pick(PROJECTS)
        tower_index = rng.below(len(towers))
        block_id = zone_id * 100 + tower_index + 1
        floor = rng.between(0, 32)
        unit_id = int(f"{block_id}{floor:02d}{rng.between(1, 8):02d}")
        unit_type, order_type, area_range, rate_range = rng.pick(UNIT_TYPES)
        area = rng.between(*area_range)
        unit_price = round(area * rng.between(*rate_range), -3)
        status = BOOKING_STATUS.draw(rng)
        booking_date = None if status == "On Hold" and rng.random() < 0.5 else min(
            self.after(created, 0, 10), self.now
        )
        agreement_date = (
            min(self.after(booking_date or created, 15, 60), self.now)
            if status in ("Agreement Signed", "Registered")
            else None
        )
        pricing = PRICING_STATUS.draw(rng)
        items = self.item_specs(rng, unit_id, unit_type, project, towers[tower_index], floor,
                                unit_price)
        currency = person.currency
        amount = sum(
            (self.price(rate, currency) * quantity - self.price(discount, currency)
             for _, _, rate, quantity, discount in items),
            Decimal("0.00"),
        )
        attrs = self.attributes(project, towers[tower_index], floor, unit_type, area)
        additional: dict[str, Any] = {"floor": floor, "parking": rng.pick(PARKING)}
        for key, value in (("view", rng.pick(VIEWS)), ("possession", self.possession()),
                           ("carpet_area_sqft", area)):
            if rng.random() < 0.5:
                additional[key] = value
        yield orders, with_derived(orders, {
            "id": order_id, "account_id": self.account_id, "customer_id": customer_id,
            "enquiry_id": enquiry_id, "erp_order_id": f"SO{created.year}{order_id:08d}",
            "erp_invoice_id": f"INV{created.year}{order_id:08d}" if agreement_date else None,
            "client_reference_id": f"CR-{order_id:08d}" if rng.random() < 0.7 else None,
            "create_date": created, "booking_status": status,
            "booking_sub_status": rng.pick(BOOKING_STATUSES[status][1]),
            "booking_date": booking_date, "agreement_date": agreement_date,
            "creator_id": rng.pick(self.employee_ids), "assign_id": rng.pick(self.employee_ids),
            "zone_id": zone_id, "block_id": block_id, "unit_id": unit_id,
            "approval_designation_id": rng.pick(APPROVAL_DESIGNATIONS)
            if pricing != "Pending Approval" else None,
            "approved_by_id": rng.pick(self.employee_ids[:5]) if pricing == "Approved" else None,
            "pricing_status": pricing, "amount": str(amount), "currency": currency,
            "payment_mode": rng.pick(PAYMENT_MODES), "order_type": order_type,
            "remarks": rng.pick(REMARKS) if rng.random() < 0.3 else None,
            **attrs, "additional_fields": additional,
            "updated_at": max(d for d in (created, booking_date, agreement_date) if d),
        })
        for position, (sku, name, rate, quantity, discount) in enumerate(items, start=1):
            yield order_items, {
                "id": self.ids.take(order_items), "account_id": self.account_id,
                "order_id": order_id, "position": position, "sku_id": sku, "product_name": name,
                "rate": str(self.price(rate, currency)), "quantity": str(quantity),
                "discount": str(self.price(discount, currency)),
            }
        for field_row in additional_field_rows(self.account_id, order_id, additional):
            yield order_fields, {"id": self.ids.take(order_fields), **field_row}

    @staticmethod
    def item_specs(
        rng: DemoRandom, unit_id: int, unit_type: str, project: str, tower: str, floor: int,
        unit_price: int,
    ) -> list[tuple[str, str, Decimal, int, Decimal]]:
        """(sku, product, rate, quantity, discount) in INR: the unit, then 0-2 extras."""
        discount = round(unit_price * rng.pick((0, 0, 0, 1, 2, 3)) // 100, -3)
        items = [(f"UNIT-{unit_id}", f"{unit_type}, {project} Tower {tower}, floor {floor}",
                  Decimal(unit_price), 1, Decimal(discount))]
        for sku, name, price in rng.sample(EXTRAS, EXTRA_COUNT.draw(rng)):
            items.append((sku, name, Decimal(price), 1, Decimal(0)))
        return items

    def possession(self) -> str:
        return f"{self.now.year + self.rng.between(0, 3)}-Q{self.rng.between(1, 4)}"

    def attributes(
        self, project: str, tower: str, floor: int, unit_type: str, area: int
    ) -> dict[str, str | None]:
        rng = self.rng
        handover = f"Q{rng.between(1, 4)} {self.now.year + rng.between(0, 3)}"
        values: list[str | None] = [
            f"Tower {tower}", rng.pick(FACINGS), str(floor), unit_type, project,
            f"{area} sq ft", rng.pick(BANKS), rng.pick(CHANNEL_PARTNERS),
            rng.pick(("Vastu Compliant", "Not Vastu")), handover,
            "Corner Unit", "Servant Room", "Private Terrace", "Pet Friendly", "Smart Home",
        ]
        fill = (0.97,) * 8 + (0.5,) * 2 + (0.08,) * 5
        return {
            name: value if rng.random() < chance else None
            for name, value, chance in zip(ATTR_NAMES, values, fill, strict=True)
        }

    # -- customers with their orders -------------------------------------------------------

    def customer_group(
        self, customer_id: int, person: _Person, order_count: int, emit_customer: bool
    ) -> Iterator[tuple[Table, Row]]:
        created = [self.moment_before(self.now, THREE_YEARS) for _ in range(order_count)]
        created.sort()
        if emit_customer:
            since = created[0] - timedelta(days=self.rng.between(130, 400))
            yield customers, self.customer_row(customer_id, person, since)
            for contact in self.contact_rows(customer_id, person):
                yield contacts, contact
        for moment in created:
            yield from self.order_rows(customer_id, person, moment)



def demo_rows(
    account_id: int,
    order_count: int,
    *,
    seed: int = DEFAULT_SEED,
    first_ids: Mapping[str, int] | None = None,
    now: datetime | None = None,
    emit_seed_customer: bool = True,
) -> Iterator[tuple[Table, Row]]:
    """Rows for `order_count` orders of one account, parents before their children.

    Ids are explicit: each table counts up from `first_ids[table name]` (default 1), except
    the seed's customer 191696570, who gets the first orders (its customers row is left out
    when `emit_seed_customer` is false, e.g. because it exists already). Same arguments,
    same rows.
    """
    rng = DemoRandom(seed)
    generator = _Generator(account_id, rng, _Ids(first_ids or {}), now or utc_now())
    remaining = order_count
    first = min(SEED_CUSTOMER_ORDERS, remaining)
    if first:
        yield from generator.customer_group(
            DEMO_CUSTOMER_ID, SEED_CUSTOMER, first, emit_seed_customer
        )
        remaining -= first
    while remaining > 0:
        count = min(ORDERS_PER_CUSTOMER.draw(rng), remaining)
        yield from generator.customer_group(
            generator.ids.take(customers), generator.person(), count, True
        )
        remaining -= count


def seed_pull_body() -> dict[str, Any]:
    """The seed's example Pull Order body (as published, less its `//` comment)."""
    body: dict[str, Any] = {"cmId": DEMO_CM_ID, "name": "", "phone": "", "email": "",
                            "customerIds": str(DEMO_CUSTOMER_ID)}
    for key in ("leadIdStr", "enquiryIds", "clientReferenceIds", *ATTR_NAMES):
        body[key] = ""
    body["viewId"] = "2"
    for key in (
        "orderIds", "erpOrderId", "createStartDate", "createEndDate", "bookingStatus",
        "bookingSubStatus", "bookingStartDate", "bookingEndDate", "creatorIdStr", "assignIdStr",
        "zoneIdStr", "blockId", "unitId", "approvalDesignationIds", "agreementStartDate",
        "agreementEndDate", "erpInvoiceId", "sortParam", "limit", "offset",
    ):
        body[key] = ""
    return body


def example_add_update_body() -> dict[str, Any]:
    """A small add-update body: one more order for the seed's customer."""
    return {
        "cmId": DEMO_CM_ID,
        "customer_info": {"customer_id": str(DEMO_CUSTOMER_ID), "customer_name": "Rahul Sharma",
                          "phone": "9380491257"},
        "enquiry_info": {"status": "Won", "subStatus": "Booking Done", "priority": "Hot"},
        "order_info": {
            "erp_order_id": "SO-DEMO-0001", "booking_status": "Booked",
            "booking_sub_status": "Token Received", "amount": "8450000.00", "currency": "INR",
            "payment_mode": "Home Loan", "order_type": "Apartment", "attr1": "Tower B",
            "attr2": "East", "attr3": "14", "additional_fields": {"floor": 14,
                                                                  "parking": "Covered"},
            "product_details": [{"sku_id": "UNIT-1102-1403", "product_name": "3 BHK, Tower B",
                                 "rate": "8450000.00", "quantity": "1", "discount": "0"}],
        },
    }


# --- loading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLoad:
    account: Account
    account_created: bool
    orders: int
    rows: int
    seconds: float

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.seconds if self.seconds > 0 else float("inf")


def ensure_demo_account(conn: Connection) -> tuple[Account, bool]:
    """The demo account with its `demo` user and employees; creates what is missing."""
    account = accounts_service.find_account(conn, DEMO_CM_ID)
    created = account is None
    if account is None:
        account = accounts_service.create_account(
            conn, cm_id=DEMO_CM_ID, subdomain=DEMO_SUBDOMAIN, name=DEMO_NAME,
            timezone=DEMO_TIMEZONE,
        )
    if accounts_service.load_user(conn, DEMO_USERNAME) is None:
        accounts_service.create_user(
            conn, account, username=DEMO_USERNAME, password=DEMO_PASSWORD, role="write"
        )
    for employee in DEMO_EMPLOYEES:
        if accounts_service.resolve_employee(conn, account, code=employee.code) is None:
            accounts_service.add_employee(
                conn, account, code=employee.code, name=employee.name, email=employee.email,
                emp_id=employee.emp_id,
            )
    return account, created


def insert_many(conn: Connection, table: Table, rows: list[Row]) -> None:
    """`INSERT` many rows (all with the same keys) in one driver-level executemany.

    Same SQL and values as `conn.execute(table.insert(), rows)`: SQLAlchemy compiles the
    statement for the dialect and each column's bind processor converts its values (dates
    to text on SQLite, JSON to text); but its per-row parameter handling, which costs more
    than the insert itself, becomes one tight loop.
    """
    dialect = conn.dialect
    compiled = table.insert().compile(dialect=dialect, column_keys=list(rows[0]))
    names = list(compiled.positiontup if compiled.positiontup is not None else rows[0])
    converters = [
        (index, convert)
        for index, name in enumerate(names)
        if (convert := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    take = itemgetter(*names)
    params: list[Any] = []
    for row in rows:
        values = take(row)
        if converters:
            changed = list(values)
            for index, convert in converters:
                changed[index] = convert(changed[index])
            values = tuple(changed)
        params.append(values)
    if compiled.positiontup is None:  # a named paramstyle (psycopg)
        params = [dict(zip(names, values, strict=True)) for values in params]
    conn.exec_driver_sql(compiled.string, params)


def _first_free_ids(conn: Connection) -> dict[str, int]:
    return {
        table.name: (conn.scalar(select(func.max(table.c.id))) or 0) + 1 for table in DEMO_TABLES
    }


def _seed_customer_owner(conn: Connection) -> int | None:
    owner: int | None = conn.scalar(
        select(customers.c.account_id).where(customers.c.id == DEMO_CUSTOMER_ID)
    )
    return owner


FIRST_BATCH = 500


class _BatchWriter:
    """Buffers the generated rows per table and writes them all, parents first."""

    def __init__(
        self, conn: Connection, on_progress: Callable[[int], None] | None, analyze: bool
    ) -> None:
        self.conn = conn
        self.on_progress = on_progress
        self.analyze = analyze
        self.buffers: dict[str, list[Row]] = {table.name: [] for table in DEMO_TABLES}
        self.orders = self.rows = 0

    def add(self, table: Table, row: Row) -> None:
        self.buffers[table.name].append(row)

    @property
    def pending_orders(self) -> int:
        return len(self.buffers[orders.name])

    def flush(self) -> None:
        first = self.rows == 0
        for table in DEMO_TABLES:
            batch = self.buffers[table.name]
            if batch:
                insert_many(self.conn, table, batch)
                self.rows += len(batch)
                if table is orders:
                    self.orders += len(batch)
                batch.clear()
        if first and self.analyze:
            # PostgreSQL plans each foreign-key check once per session, the first time,
            # which was with the tables (nearly) empty and unanalysed: the plan it keeps
            # can scan a whole index per inserted row, quadratic over a large load.
            # Statistics now (ANALYZE counts this transaction's rows) make it replan.
            _analyze(self.conn)
        if self.on_progress is not None:
            self.on_progress(self.orders)


def _analyze(conn: Connection) -> None:
    conn.execute(text(f"ANALYZE {', '.join(table.name for table in DEMO_TABLES)}"))


def _after_postgres_bulk_load(conn: Connection) -> None:
    """Move each id sequence past the explicit ids, and refresh the planner's statistics."""
    for table in DEMO_TABLES:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"(SELECT max(id) FROM {table.name}))"
        ))
    _analyze(conn)


def load_demo(
    database: Database,
    *,
    order_count: int = DEMO_ORDERS,
    seed: int = DEFAULT_SEED,
    batch_size: int = 5_000,
    if_missing: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> DemoLoad:
    """Create the demo account if missing and add `order_count` orders, in one transaction;
    with `if_missing`, change nothing when the demo account exists already.

    Rows are inserted with explicit ids, `batch_size` orders at a time (`insert_many`); on
    PostgreSQL the tables are locked against concurrent inserts meanwhile and their id
    sequences are moved past the new ids afterwards. `on_progress` gets the orders inserted
    so far after each batch.
    """
    started = time.perf_counter()
    postgres = database.engine.dialect.name == "postgresql"
    with database.write() as conn:
        existing = accounts_service.find_account(conn, DEMO_CM_ID)
        if existing is not None and if_missing:
            return DemoLoad(existing, False, 0, 0, time.perf_counter() - started)
        account, created = ensure_demo_account(conn)
        if postgres:
            names = ", ".join(table.name for table in DEMO_TABLES)
            conn.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))
        owner = _seed_customer_owner(conn)
        if owner not in (None, account.id):
            raise InvalidRequest.single(
                "customer_id", f"customer {DEMO_CUSTOMER_ID} belongs to another account"
            )
        writer = _BatchWriter(conn, on_progress, analyze=postgres)
        for table, row in demo_rows(
            account.id, order_count, seed=seed, first_ids=_first_free_ids(conn),
            emit_seed_customer=owner is None,
        ):
            writer.add(table, row)
            # A small first batch: PostgreSQL plans its checks before statistics exist.
            limit = batch_size if writer.rows else min(batch_size, FIRST_BATCH)
            if table is orders and writer.pending_orders >= limit:
                writer.flush()
        writer.flush()
        if postgres:
            _after_postgres_bulk_load(conn)
    return DemoLoad(account, created, writer.orders, writer.rows, time.perf_counter() - started)
