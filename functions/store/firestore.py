"""Firestore adapter for the store port: batched writes with update-time preconditions."""

from collections.abc import Sequence
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers

from functions.store.port import Aggregate, Conflict, Delete, Put, Query
from functions.store.retry import OptimisticStore

_CONFLICTS = (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.Aborted, gexc.Conflict, gexc.NotFound)
_OPS = {"==": "==", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "in": "in", "array_contains": "array_contains"}


class FirestoreStore(OptimisticStore):
    def __init__(self, client: firestore.Client) -> None:
        self._db = client

    def get(self, path: str) -> dict[str, Any] | None:
        # One unary GetDocument, decoded once. The client's own DocumentReference.get asks through a
        # BatchGetDocuments stream (a polling thread per call) and deep-copies the decoded document
        # twice (into the snapshot, out of to_dict): 1.7 CPU-ms a read, where this is 0.8. The client
        # offers the unary call only through its members, so they are used here, on the pinned
        # version, and an integration test holds this read equal to the public one for every value type.
        db = self._db
        try:
            document = db._firestore_api.get_document(request={"name": db.document(path)._document_path},
                                                      metadata=db._rpc_metadata)
        except gexc.NotFound:
            return None
        return _helpers.decode_dict(document.fields, db)

    def query(self, query: Query) -> list[tuple[str, dict[str, Any]]]:
        return [(snap.reference.path, snap.to_dict()) for snap in self._query(query).stream()]

    def count(self, query: Query) -> int:
        (result,) = self._query(query).count().get()[0]
        return int(result.value)

    def aggregate(self, query: Query, sum_fields: Sequence[str] = ()) -> Aggregate:
        aggregation = self._query(query).count(alias="count")
        for n, field in enumerate(sum_fields):
            aggregation = aggregation.sum(field, alias=f"sum{n}")
        found = {result.alias: result.value for row in aggregation.get() for result in row}
        return Aggregate(int(found.get("count", 0)), {f: float(found.get(f"sum{n}") or 0) for n, f in enumerate(sum_fields)})

    def _query(self, query: Query) -> Any:
        q: Any = self._db.collection(query.collection)
        for field, op, value in query.where:
            q = q.where(filter=firestore.FieldFilter(field, _OPS[op], value))
        if query.order_by:
            direction = firestore.Query.DESCENDING if query.descending else firestore.Query.ASCENDING
            q = q.order_by(query.order_by, direction=direction)
        if query.start_after:
            cursor = self._db.document(query.start_after).get()
            if cursor.exists:
                q = q.start_after(cursor)
        if query.limit:
            q = q.limit(query.limit)
        return q

    def _read(self, paths: Sequence[str]) -> dict[str, tuple[dict[str, Any] | None, Any]]:
        refs = [self._db.document(path) for path in dict.fromkeys(paths)]
        found = {snap.reference.path: snap for snap in self._db.get_all(refs)}
        return {
            ref.path: (found[ref.path].to_dict(), found[ref.path].update_time)
            if ref.path in found and found[ref.path].exists
            else (None, None)
            for ref in refs
        }

    def _commit(self, writes: Sequence[Put | Delete], read: dict[str, tuple[Any, Any]]) -> None:
        batch = self._db.batch()
        for write in writes:
            ref = self._db.document(write.path)
            if write.path not in read:
                raise ValueError(f"decision wrote {write.path} without reading it")
            before, update_time = read[write.path]
            if isinstance(write, Delete):
                if before is not None:
                    batch.delete(ref, option=self._db.write_option(last_update_time=update_time))
            elif before is None:
                batch.create(ref, write.data)
            else:
                replacement = {key: firestore.DELETE_FIELD for key in before if key not in write.data}
                replacement.update(write.data)
                batch.update(ref, replacement, option=self._db.write_option(last_update_time=update_time))
        try:
            batch.commit()
        except _CONFLICTS as exc:
            raise Conflict(str(exc)) from exc
