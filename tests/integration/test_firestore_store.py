"""The store's optimistic commits on the real Firestore emulator: exact under concurrent writers."""

import concurrent.futures
import uuid

import pytest

from functions.store import Decision, Put


@pytest.fixture
def counter_path() -> str:
    return f"counters/{uuid.uuid4().hex}"


def _increment(store, path: str) -> int:
    def decide(docs):
        value = (docs[path] or {"value": 0})["value"] + 1
        return Decision([Put(path, {"value": value})], value)

    return store.decide([path], decide)


def test_fifty_concurrent_increments_of_one_document_are_exact(store, counter_path):
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(lambda _: _increment(store, counter_path), range(50)))
    assert store.get(counter_path) == {"value": 50}
    assert sorted(results) == list(range(1, 51))  # each writer saw a distinct state


def test_a_create_of_an_existing_document_conflicts_and_is_decided_again(store, counter_path):
    entry = f"{counter_path}-entry"
    seen = []

    def decide(docs):
        seen.append(docs[entry])
        return Decision() if docs[entry] else Decision([Put(entry, {"n": len(seen)})])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: store.decide([entry], decide), range(8)))
    assert store.get(entry) is not None
    assert sum(1 for doc in seen if doc is None) >= 1


def test_fields_left_out_of_a_replacement_are_removed(store, counter_path):
    store.decide([counter_path], lambda docs: Decision([Put(counter_path, {"a": 1, "b": 2})]))
    store.decide([counter_path], lambda docs: Decision([Put(counter_path, {"a": 3})]))
    assert store.get(counter_path) == {"a": 3}


def test_aggregations_count_and_sum_on_the_server_with_array_contains(store):
    from functions.store import Query

    collection = f"agg_{uuid.uuid4().hex[:8]}"
    docs = [{"weeks": [1, 2], "amount": 250, "day": "2026-12-01"}, {"weeks": [1], "amount": 1036, "day": "2026-12-01"},
            {"weeks": [1, 2, 3], "amount": 5950, "day": "2026-11-30"}]
    store.decide([f"{collection}/{n}" for n in range(3)],
                 lambda _: Decision([Put(f"{collection}/{n}", doc) for n, doc in enumerate(docs)]))
    both = store.aggregate(Query(collection), ["amount"])
    assert (both.count, both.sums) == (3, {"amount": 7236.0})
    week2 = store.aggregate(Query(collection, where=[("weeks", "array_contains", 2), ("day", ">=", "2026-12-01")]))
    assert week2.count == 1
    assert store.aggregate(Query(collection, where=[("day", "==", "1999-01-01")]), ["amount"]).sums == {"amount": 0.0}


def test_a_read_gives_what_the_client_library_gives_for_every_value_type(store, counter_path):
    """``get`` asks a unary GetDocument and decodes it once (the library's own read is a stream and
    two deep copies); it must answer exactly what ``DocumentReference.get().to_dict()`` answers."""
    from datetime import UTC, datetime

    from google.cloud.firestore_v1 import GeoPoint

    every = {"null": None, "yes": True, "int": -(2**62), "float": 0.1, "huge": 1e308, "text": "é✓ \u0000",
             "bytes": b"\x00\xff", "at": datetime(2026, 12, 6, 23, 1, 2, 345678, tzinfo=UTC), "where": GeoPoint(51.5, -0.12),
             "list": [1, "a", None, {"deep": [True, {"deeper": 2.5}]}], "empty_list": [], "empty_map": {},
             "map": {"nested": {"at": datetime(2026, 1, 1, tzinfo=UTC), "n": 3}}}
    store.decide([counter_path], lambda docs: Decision([Put(counter_path, every)]))
    library = store._db.document(counter_path).get().to_dict()
    assert store.get(counter_path) == library == every
    assert type(store.get(counter_path)["at"]) is type(library["at"])  # the library's timestamp type, nanoseconds and all
    assert store.get(f"{counter_path}-never-written") is None
