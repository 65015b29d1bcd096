from typing import Any
from ordersearch.db.engine import Database
from ordersearch.tenancy import Account

def add_update(database: Database, account: Account, body: Any) -> Any:
    raise NotImplementedError
