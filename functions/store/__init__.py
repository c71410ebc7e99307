"""The state store port: atomic read-decide-write over a few documents, and simple queries."""

from functions.store.port import (
    Aggregate,
    Conflict,
    Decision,
    Delete,
    Put,
    Query,
    Store,
    StoreContention,
    Write,
)

__all__ = ["Aggregate", "Conflict", "Decision", "Delete", "Put", "Query", "Store", "StoreContention", "Write"]
