import type { MetricTarget, MetricsDay, MetricsReport, RetentionCohort } from "../api";
import { usd } from "../format";

// The admin console's Metrics tab: does the product meet its own targets? Every figure comes from
// GET /admin/metrics; the charts are plain SVG (a line over days, no library: two small charts
// do not justify a dependency), and every chart has a table or label a screen reader can use.

const pct = (ratio?: number) => (ratio === undefined || ratio === null ? "–" : `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)}%`);
const secs = (s?: number) => (s === undefined || s === null ? "–" : s >= 100 ? `${Math.round(s)} s` : `${s.toFixed(1)} s`);

function shown(t: MetricTarget, value?: number): string {
  if (value === undefined || value === null) return "–";
  return t.unit === "ratio" ? pct(value) : t.unit === "s" ? secs(value) : String(value);
}

export function Metrics({ report }: { report: MetricsReport }) {
  return (
    <div data-testid="metrics">
      <div class="kpis targets" data-testid="targets">
        {report.targets.map((t) => (
          <div key={t.key} class={`card kpi ${t.ok === true ? "good" : t.ok === false ? "bad" : ""}`} data-testid={`target-${t.key}`} data-ok={String(t.ok ?? "none")}>
            <span class="kpi-label">{t.label}</span>
            <span class="kpi-value">{shown(t, t.value)}</span>
            <span class="kpi-hint">
              <span class={`dot ${t.ok === true ? "good" : t.ok === false ? "bad" : ""}`} aria-hidden="true" />
              {t.ok === undefined || t.ok === null ? "no data yet · " : t.ok ? "on target · " : "off target · "}
              target {t.direction === "at_most" ? "≤" : "≥"} {shown(t, t.target)}
            </span>
          </div>
        ))}
      </div>
      <div class="chart-grid">
        <section class="card">
          <h2 class="h3">Generation time per day (created → done)</h2>
          <LineChart days={report.daily} series={[{ name: "p50", pick: (d) => d.totalP50S, tone: "a" }, { name: "p95", pick: (d) => d.totalP95S, tone: "b" }]}
            format={secs} label="Line chart of the p50 and p95 generation time per day" testid="chart-generation" />
        </section>
        <section class="card">
          <h2 class="h3">Success rate per day</h2>
          <LineChart days={report.daily} series={[{ name: "done / (done + failed)", pick: (d) => d.successRate, tone: "a" }]}
            format={pct} floor={0} ceiling={1} target={0.95} label="Line chart of the success rate per day" testid="chart-success" />
        </section>
      </div>
      <section class="card">
        <h2 class="h3">Retention by cohort (signup week)</h2>
        <Cohorts cohorts={report.retention} />
      </section>
      <section class="card">
        <h2 class="h3">Generation time by clip</h2>
        <div class="table-wrap">
          <table class="table" data-testid="generation-table">
            <thead><tr><th>Clip</th><th class="num">Jobs</th><th class="num">Run p50</th><th class="num">Run p95</th><th class="num">Total p50</th><th class="num">Total p95</th><th class="num">Target p50 / p95</th></tr></thead>
            <tbody>
              {report.generation.map((g) => (
                <tr key={`${g.durationSec}-${g.quality}`} class={g.ok === false ? "off" : ""}>
                  <td>{g.durationSec} s · {g.quality}</td><td class="num">{g.jobs}</td><td class="num">{secs(g.runP50S)}</td><td class="num">{secs(g.runP95S)}</td>
                  <td class="num">{secs(g.totalP50S)}</td><td class="num">{secs(g.totalP95S)}</td><td class="num">{secs(g.targetP50S)} / {secs(g.targetP95S)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      {/* Full width, as the table above: seven and six columns do not fit half a desktop row. */}
      <section class="card">
        <h2 class="h3">Markup per plan</h2>
        <div class="table-wrap">
          <table class="table" data-testid="plans-table">
            <thead><tr><th>Plan</th><th class="num">Credits</th><th class="num">Revenue</th><th class="num">GPU cost</th><th class="num">Markup</th><th class="num">Target</th><th class="num">Margin</th></tr></thead>
            <tbody>
              {report.plans.map((p) => (
                <tr key={p.planId} class={p.ok === false ? "off" : ""}>
                  <td>{p.name}</td><td class="num">{p.credits}</td><td class="num">{usd(p.revenueUsd)}</td><td class="num">{usd(p.costUsd)}</td>
                  <td class="num">{pct(p.markup)}</td><td class="num">{p.targetMarkup !== undefined ? pct(p.targetMarkup) : "–"}</td><td class="num">{pct(p.margin)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="card">
        <h2 class="h3">GPU time and cost</h2>
        <div class="table-wrap">
          <table class="table" data-testid="gpu-table">
            <thead><tr><th>GPU</th><th class="num">Clips</th><th class="num">Run p50</th><th class="num">GPU s</th><th class="num">Cost</th><th class="num">Per clip</th></tr></thead>
            <tbody>
              {report.byGpu.map((g) => (
                <tr key={g.gpuType}><td>{g.gpuType}</td><td class="num">{g.clips}</td><td class="num">{secs(g.runP50S)}</td><td class="num">{g.gpuSeconds.toFixed(0)}</td>
                  <td class="num">{usd(g.costUsd)}</td><td class="num">{g.costPerClipUsd !== undefined ? usd(g.costPerClipUsd) : "–"}</td></tr>
              ))}
              {report.byDuration.map((d) => (
                <tr key={`d${d.durationSec}`} class="sub"><td>{d.durationSec} s clips</td><td class="num">{d.clips}</td><td class="num" /><td class="num">{d.gpuSecondsPerClip?.toFixed(1) ?? "–"} / clip</td>
                  <td class="num" /><td class="num">{d.costPerClipUsd !== undefined ? usd(d.costPerClipUsd) : "–"}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="card">
        <h2 class="h3">Failures, refunds, queues</h2>
        <ul class="facts" data-testid="failure-codes">
          {report.success.failureCodes.map((f) => <li key={f.code}><code>{f.code}</code> <span class="num">{f.count}</span></li>)}
          {report.success.failureCodes.length === 0 && <li class="muted">no failures in the window</li>}
        </ul>
        <p class="muted small">
          {report.success.done} done · {report.success.failed} failed · {report.success.canceled} canceled · {report.success.rejected} rejected ·{" "}
          {report.refunds} refunds ({report.refundedCredits} credits) · cold starts {report.coldStarts.cold} of {report.coldStarts.jobs} jobs ·{" "}
          dead letters {report.queues.deadLetters}{report.queues.operatorQueue !== undefined ? ` · operator queue ${report.queues.operatorQueue}` : ""} · skipped tick records {report.queues.tickFailures}
        </p>
        <p class="muted small" data-testid="documents-read">
          {report.start} – {report.end} (UTC) · this page read {report.documentsRead} documents, however many jobs there are.
          Percentiles are read from 10 % buckets: at most 10 % above the true value.
        </p>
      </section>
    </div>
  );
}

type Series = { name: string; pick: (d: MetricsDay) => number | undefined; tone: "a" | "b" };

function LineChart({ days, series, format, floor, ceiling, target, label, testid }: {
  days: MetricsDay[]; series: Series[]; format: (v?: number) => string; floor?: number; ceiling?: number; target?: number;
  label: string; testid: string;
}) {
  const W = 320, H = 140, PAD = { l: 38, r: 8, t: 10, b: 22 };
  const values = series.flatMap((s) => days.map(s.pick)).filter((v): v is number => v !== undefined && v !== null);
  const lo = floor ?? 0;
  const hi = Math.max(ceiling ?? 0, target ?? 0, ...values, lo + 1e-9);
  const x = (i: number) => PAD.l + (days.length <= 1 ? 0 : (i / (days.length - 1)) * (W - PAD.l - PAD.r));
  const y = (v: number) => PAD.t + (1 - (v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  const path = (s: Series) =>
    days.map((d, i) => [i, s.pick(d)] as const).filter(([, v]) => v !== undefined && v !== null)
      .map(([i, v], n) => `${n ? "L" : "M"}${x(i).toFixed(1)},${y(v as number).toFixed(1)}`).join(" ");
  const every = Math.max(1, Math.ceil(days.length / 6));
  return (
    <figure class="line-chart" data-testid={testid}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="none">
        {[lo, (lo + hi) / 2, hi].map((v) => (
          <g key={v}>
            <line class="grid" x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} />
            <text class="axis" x={PAD.l - 4} y={y(v) + 3} text-anchor="end">{format(v)}</text>
          </g>
        ))}
        {target !== undefined && <line class="target" x1={PAD.l} x2={W - PAD.r} y1={y(target)} y2={y(target)} />}
        {days.map((d, i) => (i % every === 0 ? <text key={d.day} class="axis" x={x(i)} y={H - 6} text-anchor="middle">{d.day.slice(5)}</text> : null))}
        {series.map((s) => <path key={s.name} class={`line ${s.tone}`} d={path(s)} />)}
        {series.map((s) => days.map((d, i) => {
          const v = s.pick(d);
          return v === undefined || v === null ? null : <circle key={`${s.name}${d.day}`} class={`point ${s.tone}`} cx={x(i)} cy={y(v)} r="2.6"><title>{`${d.day} ${s.name}: ${format(v)}`}</title></circle>;
        }))}
      </svg>
      <figcaption class="legend small">
        {series.map((s) => <span key={s.name}><span class={`swatch line-${s.tone}`} /> {s.name} </span>)}
        {target !== undefined && <span><span class="swatch line-target" /> target {format(target)}</span>}
        {values.length === 0 && <span class="muted"> · no jobs ended in the window</span>}
      </figcaption>
    </figure>
  );
}

function Cohorts({ cohorts }: { cohorts: RetentionCohort[] }) {
  const weeks = Array.from(new Set(cohorts.flatMap((c) => c.weeks.map((w) => w.week)))).sort((a, b) => a - b);
  return (
    <div class="table-wrap">
      <table class="table cohorts" data-testid="cohort-table">
        <thead><tr><th>Cohort</th><th class="num">Users</th>{weeks.map((w) => <th key={w} class="num">Week {w}</th>)}</tr></thead>
        <tbody>
          {cohorts.map((c) => (
            <tr key={c.weekStart}>
              <td>{c.weekStart}</td><td class="num">{c.users}</td>
              {weeks.map((w) => {
                const cell = c.weeks.find((x) => x.week === w);
                const rate = cell?.rate;
                // Shade by the share retained: 0 % transparent, 50 % and more full strength.
                const alpha = rate === undefined || rate === null ? 0 : Math.min(1, rate * 2) * 0.85;
                return (
                  <td key={w} class="num heat" style={{ background: `rgba(139, 92, 246, ${alpha.toFixed(2)})` }}
                    title={cell ? `${cell.retained} of ${c.users} came back in week ${w}` : "not over yet"}>
                    {cell ? pct(rate) : ""}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small">Retained in week N: created a job 7(N−1)–7N days after their first. Cohort: the week a user signed up. A cell is filled once that week has ended for everyone who made a first video in their signup week.</p>
    </div>
  );
}
