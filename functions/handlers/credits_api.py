"""GET /credits, GET /plans, POST /admin/grants."""

from functions.bootstrap import Deps
from functions.core import credits, ledger
from functions.core.jobs import load_user
from functions.core.paths import ledger_collection, user_path
from functions.core.plans import priced
from functions.handlers.views import ledger_view
from functions.http.body import json_object
from functions.http.endpoint import Call, Reply
from functions.store import Query
from schemas.api import CreditsView, GrantRequest, GrantResponse, PlanList, PlanView
from schemas.documents import LedgerEntry, LedgerKind

def get_credits(call: Call, deps: Deps) -> Reply:
    """One document read: the user document carries its newest ledger entries (written with each
    posting). Only a document from before that falls back to querying the ledger."""
    user = load_user({user_path(call.user_id): deps.store.get(user_path(call.user_id))}, call.user_id, deps.now())
    recent = user.recent_entries
    if recent is None:
        rows = deps.store.query(
            Query(ledger_collection(call.user_id), order_by="createdAt", descending=True, limit=ledger.RECENT_ENTRIES)
        )
        recent = tuple(LedgerEntry.from_document(data) for _, data in rows)
    return 200, CreditsView(balance=user.balance, entries=[ledger_view(entry) for entry in recent])


def list_plans(call: Call, deps: Deps) -> Reply:
    s = deps.settings
    catalogue = priced(s.billing_currency, s.plan_prices_minor, s.extra_credit_price_minor)
    plans = [PlanView(plan_id=p.plan_id, name=p.name, monthly_credits=p.monthly_credits, price_minor=p.price_minor,
                      currency=catalogue.currency) for p in catalogue.plans]
    return 200, PlanList(plans=plans, extra_credit_price_minor=catalogue.extra_credit_price_minor, currency=catalogue.currency)


def admin_grant_credits(call: Call, deps: Deps) -> Reply:
    grant = GrantRequest.model_validate(json_object(call.request))
    entry_id = f"admin:{grant.grant_id}"
    now = deps.now()
    posted = deps.store.decide(
        credits.post_paths(grant.user_id, entry_id),
        lambda docs: credits.decide_post(
            docs, grant.user_id, entry_id, LedgerKind.ADMIN, grant.credits, now, note=grant.note or f"granted by {call.user_id}"
        ),
    )
    return 200, GrantResponse(user_id=grant.user_id, balance=posted.balance, entry_id=entry_id, applied=posted.applied)
