import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { AdminJob, DailyStats } from "../api";
import { money, usd, when } from "../format";
import { type Loaded, useApp, useLoad } from "../state";
import { ErrorBox, Spinner, StatusPill } from "../ui";
import { Metrics } from "./AdminMetrics";
import { OperatorQueue } from "./OperatorQueue";

type Tab = "overview" | "metrics" | "jobs" | "users" | "queue";
const STATUSES = ["", "pending", "reserved", "queued", "running", "done", "expired", "rejected", "failed", "canceled"];

export function Admin() {
  const { api } = useApp();
  const [tab, setTab] = useState<Tab>("overview");
  const [days, setDays] = useState(14);
  // The API decides who is an admin: the first call tells the UI whether to show anything.
  const stats = useLoad(() => api.dailyStats(days), [api, days]);

  if (stats.error?.status === 403 || stats.error?.status === 401) {
    return (
      <div class="page narrow empty" data-testid="admin-forbidden">
        <h1>Admins only</h1>
        <p class="alert" role="alert">You need the admin role to open the console. The API answered: “{stats.error.message}”.</p>
      </div>
    );
  }
  return (
    <div class="page">
      <p class="eyebrow">Admin console</p>
      <h1 class="display">Operations</h1>
      <div class="tabs" role="tablist">
        {(["overview", "metrics", "jobs", "users", "queue"] as Tab[]).map((name) => (
          <button key={name} role="tab" aria-selected={tab === name} class={tab === name ? "tab active" : "tab"} onClick={() => setTab(name)}>
            {{ overview: "Spend & margin", metrics: "Metrics", jobs: "Jobs", users: "Users", queue: "Operator queue" }[name]}
          </button>
        ))}
      </div>
      {tab === "overview" && <Windowed days={days} setDays={setDays} loaded={stats} render={(data) => <Overview stats={data} />} />}
      {tab === "metrics" && <MetricsTab days={days} setDays={setDays} />}
      {tab === "jobs" && <Jobs />}
      {tab === "users" && <Users />}
      {tab === "queue" && <OperatorQueue />}
    </div>
  );
}

function Overview({ stats }: { stats: DailyStats }) {
  const t = stats.totals;
  const revenueUsd = (minor: number) => (minor / 100) * stats.usdPerBillingUnit;
  const max = Math.max(0.0001, ...stats.days.map((d) => Math.max(revenueUsd(d.creditRevenueMinor), d.gpuCostUsd)));
  const chronological = [...stats.days].reverse();
  return (
    <>
      <div class="kpis" data-testid="kpis">
        <Kpi label="Credits burned" value={String(t.creditsBurned)} hint={`${t.jobsDone} videos delivered`} />
        <Kpi label="GPU spend" value={usd(t.gpuCostUsd)} hint={`${t.gpuSeconds.toFixed(1)} GPU s × $${stats.gpuPricePerSecondUsd}/s`} />
        <Kpi label="Revenue (credits used)" value={money(t.creditRevenueMinor, stats.currency)} hint={`${money(stats.revenuePerCreditMinor, stats.currency)} per credit`} />
        <Kpi label="Margin" value={usd(t.marginUsd)} tone={t.marginUsd >= 0 ? "good" : "bad"} hint={marginPercent(revenueUsd(t.creditRevenueMinor), t.gpuCostUsd)} />
        <Kpi label="Failures" value={String(t.jobsFailed)} tone={t.jobsFailed ? "bad" : undefined} hint={`${t.jobsRejected} rejected · ${t.jobsCanceled} canceled`} />
        <Kpi label="Payments settled" value={money(t.paymentsMinor, stats.currency)} hint="cash in" />
      </div>
      <section class="card">
        <h2 class="h3">Revenue vs GPU spend per day (USD)</h2>
        <div class="chart" role="img" aria-label="Bar chart of revenue and GPU spend per day">
          {chronological.map((d) => (
            <div class="chart-day" key={d.day} title={`${d.day}: revenue ${usd(revenueUsd(d.creditRevenueMinor))}, GPU ${usd(d.gpuCostUsd)}`}>
              <div class="chart-bars">
                <span class="bar revenue" style={{ height: `${(revenueUsd(d.creditRevenueMinor) / max) * 100}%` }} />
                <span class="bar cost" style={{ height: `${(d.gpuCostUsd / max) * 100}%` }} />
              </div>
              <span class="chart-label">{chronological.length > 10 ? d.day.slice(8) : d.day.slice(5)}</span>
            </div>
          ))}
        </div>
        <p class="legend small"><span class="swatch revenue" /> revenue <span class="swatch cost" /> GPU spend</p>
      </section>
      <section class="card">
        <h2 class="h3">By day</h2>
        <div class="table-wrap">
          <table class="table" data-testid="daily-table">
            <thead>
              <tr><th>Day (UTC)</th><th class="num">Done</th><th class="num">Failed</th><th class="num">Credits</th><th class="num">GPU s</th><th class="num">GPU spend</th><th class="num">Revenue</th><th class="num">Margin</th></tr>
            </thead>
            <tbody>
              {stats.days.map((d) => (
                <tr key={d.day}>
                  <td>{d.day}</td><td class="num">{d.jobsDone}</td><td class="num">{d.jobsFailed}</td><td class="num">{d.creditsBurned}</td>
                  <td class="num">{d.gpuSeconds.toFixed(1)}</td><td class="num">{usd(d.gpuCostUsd)}</td>
                  <td class="num">{money(d.creditRevenueMinor, stats.currency)}</td>
                  <td class={`num ${d.marginUsd < 0 ? "neg" : ""}`}>{usd(d.marginUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p class="muted small">
          Revenue = credits used × the cheapest plan's price per credit (never overstated); converted at {stats.usdPerBillingUnit} USD per {stats.currency}.
          {stats.truncated && " This window has more jobs than one report reads: totals are partial."}
        </p>
      </section>
    </>
  );
}

function MetricsTab({ days, setDays }: { days: number; setDays: (n: number) => void }) {
  const { api } = useApp();
  const report = useLoad(() => api.metrics(days), [api, days]);
  return <Windowed days={days} setDays={setDays} loaded={report} render={(data) => <Metrics report={data} />} />;
}

/** A report over the last ``days``: the window picker, then the report (or its error, or a spinner). */
function Windowed<T>({ days, setDays, loaded, render }: {
  days: number; setDays: (n: number) => void; loaded: Loaded<T>; render: (data: T) => ComponentChildren;
}) {
  return (
    <>
      <div class="toolbar">
        <label class="field inline">
          <span>Window</span>
          <select value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
            {[7, 14, 30, 90].map((n) => <option key={n} value={n}>last {n} days</option>)}
          </select>
        </label>
      </div>
      <ErrorBox error={loaded.error} />
      {loaded.data ? render(loaded.data) : <Spinner />}
    </>
  );
}

function marginPercent(revenue: number, cost: number): string {
  return revenue > 0 ? `${Math.round(((revenue - cost) / revenue) * 100)}% of revenue` : "no revenue yet";
}

function Kpi({ label, value, hint, tone }: { label: string; value: string; hint?: string; tone?: "good" | "bad" }) {
  return (
    <div class={`card kpi ${tone ?? ""}`}>
      <span class="kpi-label">{label}</span>
      <span class="kpi-value">{value}</span>
      {hint && <span class="kpi-hint">{hint}</span>}
    </div>
  );
}

function Jobs() {
  const { api } = useApp();
  const [draft, setDraft] = useState({ status: "", userId: "", from: "", to: "" });
  const [filters, setFilters] = useState(draft);
  const [more, setMore] = useState<AdminJob[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const page = useLoad(async () => {
    const result = await api.adminJobs(filters);
    setMore([]);
    setCursor(result.nextCursor);
    return result;
  }, [api, filters]);
  const loadMore = async () => {
    const next = await api.adminJobs({ ...filters, cursor: cursor ?? "" });
    setMore([...more, ...next.jobs]);
    setCursor(next.nextCursor);
  };
  const rows = [...(page.data?.jobs ?? []), ...more];
  return (
    <>
      <form class="card filters" onSubmit={(e) => { e.preventDefault(); setFilters({ ...draft }); }}>
        <label class="field inline"><span>Status</span>
          <select name="status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value })}>
            {STATUSES.map((s) => <option key={s} value={s}>{s || "any"}</option>)}
          </select>
        </label>
        <label class="field inline"><span>User</span><input name="userId" value={draft.userId} placeholder="user_…" onInput={(e) => setDraft({ ...draft, userId: e.currentTarget.value.trim() })} /></label>
        <label class="field inline"><span>From</span><input type="date" name="from" value={draft.from} onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })} /></label>
        <label class="field inline"><span>To</span><input type="date" name="to" value={draft.to} onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })} /></label>
        <button class="primary" type="submit">Filter</button>
        <button class="ghost" type="button" onClick={() => { const none = { status: "", userId: "", from: "", to: "" }; setDraft(none); setFilters(none); }}>Clear</button>
      </form>
      <ErrorBox error={page.error} />
      {page.loading && !page.data && <Spinner />}
      {page.data && rows.length === 0 && <p class="muted">No jobs match.</p>}
      {rows.length > 0 && (
        <div class="table-wrap card">
          <table class="table" data-testid="admin-jobs">
            <thead>
              <tr><th>Created</th><th>Job</th><th>User</th><th>Status</th><th class="num">Length</th><th class="num">GPU s</th><th class="num">Cost</th><th>Prompt / error</th></tr>
            </thead>
            <tbody>
              {rows.map((job) => (
                <tr key={job.jobId} data-job-id={job.jobId}>
                  <td class="nowrap">{when(job.createdAt)}</td>
                  <td><code title={job.traceId ? `trace ${job.traceId}` : undefined}>{job.jobId.slice(0, 16)}…</code></td>
                  <td><code>{job.userId}</code></td>
                  <td><StatusPill status={job.status} /></td>
                  <td class="num">{job.durationSec} s</td>
                  <td class="num">{job.gpuSeconds !== undefined ? job.gpuSeconds.toFixed(1) : "–"}</td>
                  <td class="num" data-testid="job-cost">{job.costUsd !== undefined ? usd(job.costUsd) : "–"}</td>
                  <td class="prompt-cell">
                    {job.error ? <span class="error-text"><strong>{job.error.code}</strong>: {job.error.message}</span> : <span class="muted">{job.promptPreview}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <button class="secondary" onClick={loadMore}>Load more</button>}
    </>
  );
}

function Users() {
  const { api } = useApp();
  const [search, setSearch] = useState("");
  const [userId, setUserId] = useState("");
  const page = useLoad(() => api.adminUsers({ userId }), [api, userId]);
  return (
    <>
      <form class="card filters" onSubmit={(e) => { e.preventDefault(); setUserId(search.trim()); }}>
        <label class="field inline"><span>User id</span><input value={search} placeholder="user_…" onInput={(e) => setSearch(e.currentTarget.value)} /></label>
        <button class="primary" type="submit">Find</button>
        {userId && <button class="ghost" type="button" onClick={() => { setSearch(""); setUserId(""); }}>All users</button>}
      </form>
      <ErrorBox error={page.error} />
      {page.loading && !page.data && <Spinner />}
      {page.data && (
        <div class="table-wrap card">
          <table class="table" data-testid="admin-users">
            <thead><tr><th>User</th><th class="num">Balance</th><th>Plan</th><th class="num">Active jobs</th><th>Renews</th><th>Since</th></tr></thead>
            <tbody>
              {page.data.users.map((u) => (
                <tr key={u.userId}>
                  <td><code>{u.userId}</code></td>
                  <td class="num">{u.balance}</td>
                  <td>{u.planName ? <>{u.planName} <span class="muted small">({u.subscriptionStatus})</span></> : <span class="muted">pay as you go</span>}</td>
                  <td class="num">{u.activeJobs}</td>
                  <td>{u.renewsAt ? when(u.renewsAt) : "–"}</td>
                  <td class="nowrap">{when(u.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.data.users.length === 0 && <p class="muted">No users match.</p>}
        </div>
      )}
    </>
  );
}
