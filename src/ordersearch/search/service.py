from typing import Any
from sqlalchemy import Connection
from ordersearch.tenancy import Account

def pull_orders(conn: Connection, account: Account, body: Any) -> dict[str, Any]:
    raise NotImplementedError
