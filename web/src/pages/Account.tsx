import { useEffect, useState } from "preact/hooks";
import { ApiError, type Payer, type Plans } from "../api";
import { money, plural, when } from "../format";
import limits from "../limits.json";
import { href } from "../router";
import { useApp, useLoad } from "../state";
import { ErrorBox, Spinner } from "../ui";
import { ApiKeys } from "./ApiKeys";
import { Webhooks } from "./Webhooks";

const KIND_LABEL: Record<string, string> = {
  reserve: "Video reserved", refund: "Refund", settle: "Video delivered", grant: "Top-up", monthly: "Monthly credits", admin: "Granted by CineWeave",
};

export function Account() {
  const { api, session, setBalance } = useApp();
  const credits = useLoad(() => api.credits(), [api]);
  // Payments may not be deployed everywhere: a 404 here means "no billing", not an error.
  const account = useLoad(() => api.account(), [api]);
  const plans = useLoad(() => api.plans(), [api]);
  useEffect(() => {
    if (credits.data) setBalance(credits.data.balance);
  }, [credits.data]);
  const billing = account.error?.status === 404 ? "absent" : "present";
  const sub = account.data?.subscription;

  return (
    <div class="page">
      <p class="eyebrow">Account</p>
      <h1 class="display">Plan &amp; credits</h1>
      <div class="grid-2">
        <section class="card">
          <h2 class="h3">Balance</h2>
          <p class="stat-value big" data-testid="account-balance">{credits.data?.balance ?? "–"}</p>
          <p class="muted">credits · {credits.data ? plural(credits.data.balance * 5, "second") : "…"} of video</p>
          <p class="muted small">Signed in as <code>{session.identity.userId}</code></p>
        </section>
        <section class="card" data-testid="plan">
          <h2 class="h3">Plan</h2>
          {account.loading && !account.data && billing === "present" && <Spinner />}
          {billing === "absent" && <p class="muted">Billing is not available on this deployment yet.</p>}
          {account.data && !sub && <p>No plan yet — pay as you go with top-ups, or pick a plan below.</p>}
          {sub && (
            <>
              <p class="plan-name">{sub.planName} <span class={`pill pill-sub-${sub.status}`}>{sub.status}</span></p>
              <p class="muted">{plural(sub.monthlyCredits, "credit")} a month</p>
              {sub.renewsAt && <p class="small">Renews on <strong>{when(sub.renewsAt)}</strong> ({sub.renewWith === "mandate" ? "charged automatically" : "we send you a payment link"})</p>}
              {!sub.renewsAt && sub.currentPeriodEnd && <p class="small">Paid until {when(sub.currentPeriodEnd)}; it will not renew.</p>}
              {sub.renewal?.link && <a class="button primary" href={sub.renewal.link}>Pay this month's renewal</a>}
            </>
          )}
          {account.error && billing === "present" && <ErrorBox error={account.error} />}
        </section>
      </div>

      {billing === "present" && plans.data && <Billing plans={plans.data} subscribed={sub?.status === "active"} />}

      <section class="card">
        <h2 class="h3">Credit history</h2>
        <ErrorBox error={credits.error} />
        {credits.data && credits.data.entries.length === 0 && <p class="muted">No credit movements yet.</p>}
        {credits.data && credits.data.entries.length > 0 && (
          <div class="table-wrap">
            <table class="table" data-testid="ledger">
              <thead><tr><th>When</th><th>What</th><th class="num">Credits</th><th class="num">Balance</th></tr></thead>
              <tbody>
                {credits.data.entries.map((entry) => (
                  <tr key={entry.entryId}>
                    <td>{when(entry.createdAt)}</td>
                    <td>{KIND_LABEL[entry.kind] ?? entry.kind}{entry.jobId && <> · <a href={href(`/jobs/${entry.jobId}`)}>video</a></>}</td>
                    <td class={`num ${entry.amount < 0 ? "neg" : entry.amount > 0 ? "pos" : ""}`}>{entry.amount > 0 ? `+${entry.amount}` : entry.amount}</td>
                    <td class="num">{entry.balanceAfter}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <ApiKeys />

      <Webhooks />

      {account.data && account.data.payments.length > 0 && (
        <section class="card">
          <h2 class="h3">Payments</h2>
          <div class="table-wrap">
            <table class="table">
              <thead><tr><th>When</th><th>What</th><th class="num">Amount</th><th>State</th></tr></thead>
              <tbody>
                {account.data.payments.map((p) => (
                  <tr key={p.paymentId}>
                    <td>{when(p.createdAt)}</td>
                    <td>{p.kind === "plan" ? `Plan ${p.planId ?? ""}` : "Top-up"} · {plural(p.credits, "credit")}</td>
                    <td class="num">{money(p.amountMinor, p.currency)}</td>
                    <td>{p.state}{p.link && <> · <a href={p.link}>pay now</a></>}{p.failureReason && <span class="muted"> ({p.failureReason})</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}

function Billing({ plans, subscribed }: { plans: Plans; subscribed: boolean }) {
  const { api } = useApp();
  const [payer, setPayer] = useState<Payer>({ name: "", email: "" });
  const [topup, setTopup] = useState(limits.topupMinCredits);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState("");
  const payerOrNothing = payer.name.trim() ? { payer: { name: payer.name.trim(), ...(payer.email ? { email: payer.email.trim() } : {}) } } : {};

  const go = async (what: string, start: () => Promise<{ link: string }>) => {
    setBusy(what);
    setError(null);
    try {
      location.assign((await start()).link); // the bank's hosted payment page; credits arrive when it settles
    } catch (e) {
      setError(e as ApiError);
      setBusy("");
    }
  };

  return (
    <>
      <section class="plans" aria-label="Plans">
        {plans.plans.map((plan) => (
          <div class="card plan-card" key={plan.planId}>
            <h3>{plan.name}</h3>
            <p class="plan-price">{money(plan.priceMinor, plan.currency)}<span class="muted small"> / month</span></p>
            <p>{plural(plan.monthlyCredits, "credit")} · {Math.round((plan.monthlyCredits * 5) / 60)} min of video</p>
            <p class="muted small">{money(plan.priceMinor / plan.monthlyCredits, plan.currency)} per credit</p>
            <button class="primary full" disabled={!!busy || subscribed} onClick={() => go(plan.planId, () => api.subscribe({ planId: plan.planId, ...payerOrNothing }))}>
              {busy === plan.planId ? "Opening payment…" : subscribed ? "Subscribed" : `Subscribe`}
            </button>
          </div>
        ))}
      </section>
      <section class="card topup">
        <div>
          <h2 class="h3">Top up</h2>
          <p class="muted small">Extra credits at {money(plans.extraCreditPriceMinor, plans.currency)} each; they never expire.</p>
        </div>
        <div class="topup-row">
          <label class="field inline">
            <span>Credits</span>
            <input type="number" min={limits.topupMinCredits} max={limits.topupMaxCredits} value={topup} onInput={(e) => setTopup(Number(e.currentTarget.value))} />
          </label>
          <button class="secondary" disabled={!!busy} onClick={() => go("topup", () => api.topup({ credits: topup, ...payerOrNothing }))}>
            {busy === "topup" ? "Opening payment…" : `Pay ${money(topup * plans.extraCreditPriceMinor, plans.currency)}`}
          </button>
        </div>
        <details class="payer" open={error?.field?.startsWith("payer")}>
          <summary>Billing details (asked once, for your first payment)</summary>
          <div class="grid-2">
            <label class="field"><span>Name</span><input value={payer.name} autocomplete="name" onInput={(e) => setPayer({ ...payer, name: e.currentTarget.value })} /></label>
            <label class="field"><span>Email</span><input type="email" value={payer.email} autocomplete="email" onInput={(e) => setPayer({ ...payer, email: e.currentTarget.value })} /></label>
          </div>
        </details>
        <ErrorBox error={error} />
      </section>
    </>
  );
}
