"""One declarative mapping table per Stripe stream, keyed by stream name; each module says which
Stripe object it reads and which XDM class and field groups it fills."""

from __future__ import annotations

from target_aep.mapping.engine import Table
from target_aep.mapping.tables.balance_transactions import TABLE as BALANCE_TRANSACTIONS
from target_aep.mapping.tables.charges import TABLE as CHARGES
from target_aep.mapping.tables.customers import TABLE as CUSTOMERS
from target_aep.mapping.tables.prices import TABLE as PRICES
from target_aep.mapping.tables.refunds import TABLE as REFUNDS
from target_aep.mapping.tables.subscriptions import TABLE as SUBSCRIPTIONS

TABLES: dict[str, Table] = {
    table.stream: table
    for table in (CHARGES, REFUNDS, SUBSCRIPTIONS, BALANCE_TRANSACTIONS, CUSTOMERS, PRICES)
}
