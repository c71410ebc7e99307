"""A local stand-in for TrueLayer (auth, Payments API v3, webhooks), for the local stack and tests.

It speaks TrueLayer's wire formats, checks every request's ``Tl-Signature`` with our public key,
and signs its webhooks with its own keys, whose JWKS it serves on loopback: the production
client and the production webhook verification are the code that runs against it. In-memory,
one process, threaded.

Run::

    python -m devstack.truelayer_standin --port 8096 --keys .devstack/truelayer \\
        --webhook-url http://127.0.0.1:8080/webhooks/truelayer [--client-id ID] [--client-secret S]
        [--merchant-account-id ID] [--webhook-retries 2] [--webhook-retry-delay-s 1] [--verbose]

TrueLayer's faces
    ``POST /connect/token`` (form: client_credentials, client id and secret) -> ``{access_token, expires_in}``.
    ``POST /v3/payments``, ``POST /v3/mandates`` (Bearer token, ``Idempotency-Key``, ``Tl-Signature``
    over method, path, Idempotency-Key and body: else 401) -> ``{id, user: {id}, status, resource_token?}``;
    the same key with the same body answers the same, with another body 422. A payment on an
    authorised mandate (``payment_method.type = mandate``) needs no authorisation: it starts
    ``authorized``. ``GET /v3/payments/{id}``, ``GET /v3/mandates/{id}`` -> the resource.
    ``GET /.well-known/jwks``: the webhook-signing keys (the local allow-list's only entry).
    ``GET /foreign/.well-known/jwks``: a key outside the allow-list. ``GET /hpp/payments``,
    ``GET /hpp/mandates``: the "Hosted Payment Page" the links point at (a placeholder).

Controls (JSON, no auth). Every control that sends webhooks takes ``{"copies": 1, "concurrent":
false, "signature": "valid" | "corrupt" | "foreign-jku" | "missing"}`` and answers ``{"eventIds"}``;
webhooks go out in the background, retried on a non-2xx.
    ``POST /_control/payments/{id}/authorize|execute|settle|fail`` (``fail``: ``"reason"``): moves
        the payment and sends TrueLayer's webhooks (``settle`` sends payment_executed first if needed).
    ``POST /_control/mandates/{id}/authorize|revoke|fail``: the same for mandates.
    ``POST /_control/webhooks/send`` ``{"body": {...}}``: any webhook body, signed as asked.
    ``POST /_control/keys/rotate``: a new webhook-signing key signs from now on -> ``{"kid"}``.
    ``POST /_control/reset``: forget payments, mandates, tokens, logs (keys stay).
    ``GET  /_control/payments``, ``GET /_control/mandates``: every resource and its status.
    ``GET  /_control/webhooks``: every delivery attempt ``{at, eventId, type, copy, attempt, url,
        headers, body, statusCode | error}`` (``body`` is the exact string signed: replay it).
    ``GET  /_control/requests``: every API call ``{at, method, path, status, signature, idempotencyKey}``.
"""
