"""CineWeave's shared contracts: HTTP bodies, Pub/Sub events, Firestore documents, worker I/O.

Every model serialises with camelCase names (``model_dump(by_alias=True)``); Python code uses
snake_case attributes. Generated JSON Schema / OpenAPI live in ``schemas/generated``.
"""
