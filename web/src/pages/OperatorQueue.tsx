import { useState } from "preact/hooks";
import type { PaymentIssue } from "../api";
import { money, when } from "../format";
import { useApp, useLoad } from "../state";
import { ErrorBox, Spinner } from "../ui";

/** The operator queue: money TrueLayer moved that bought nothing, and records the clock tick skipped. */
export function OperatorQueue() {
  const { api } = useApp();
  const [version, setVersion] = useState(0);
  const queue = useLoad(() => api.operatorQueue(), [api, version]);
  return (
    <>
      <ErrorBox error={queue.error} />
      {queue.loading && !queue.data && <Spinner />}
      {queue.data && (
        <>
          <h2>Payments that bought nothing</h2>
          <div class="table-wrap card">
            <table class="table" data-testid="payment-issues">
              <thead><tr><th>Payment</th><th>User</th><th class="num">Amount</th><th class="num">Credits</th><th>Why</th><th>Since</th><th></th></tr></thead>
              <tbody>
                {queue.data.paymentIssues.map((issue) => (
                  <IssueRow key={issue.paymentId} issue={issue} onResolved={() => setVersion((v) => v + 1)} />
                ))}
              </tbody>
            </table>
            {queue.data.paymentIssues.length === 0 && <p class="muted">Nothing to refund or grant by hand.</p>}
          </div>
          <h2>Records the clock tick skipped</h2>
          <div class="table-wrap card">
            <table class="table" data-testid="tick-failures">
              <thead><tr><th>Step</th><th>Record</th><th class="num">Attempts</th><th>Last error</th><th>Last</th></tr></thead>
              <tbody>
                {queue.data.tickFailures.map((f) => (
                  <tr key={`${f.step}:${f.recordId}`}>
                    <td><code>{f.step}</code></td>
                    <td><code>{f.recordId}</code></td>
                    <td class="num">{f.attempts}</td>
                    <td class="small">{f.error}</td>
                    <td class="nowrap">{when(f.lastAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {queue.data.tickFailures.length === 0 && <p class="muted">Every record was handled.</p>}
          </div>
        </>
      )}
    </>
  );
}

function IssueRow({ issue, onResolved }: { issue: PaymentIssue; onResolved: () => void }) {
  const { api } = useApp();
  const [note, setNote] = useState("");
  const [error, setError] = useState<Error | null>(null);
  async function resolve(e: Event) {
    e.preventDefault();
    try {
      await api.resolvePaymentIssue(issue.paymentId, note.trim());
      onResolved();
    } catch (err) {
      setError(err as Error);
    }
  }
  return (
    <tr data-payment-id={issue.paymentId}>
      <td><code>{issue.paymentId}</code></td>
      <td><code>{issue.userId}</code></td>
      <td class="num">{money(issue.amountMinor, issue.currency)}</td>
      <td class="num">{issue.credits}</td>
      <td class="small">{issue.detail}</td>
      <td class="nowrap">{when(issue.createdAt)}</td>
      <td>
        {issue.resolvedAt ? (
          <span class="muted small">resolved {when(issue.resolvedAt)}: {issue.resolution}</span>
        ) : (
          <form class="inline" onSubmit={resolve}>
            <input name="note" value={note} placeholder="refunded at TrueLayer…" onInput={(e) => setNote(e.currentTarget.value)} />
            <button class="ghost" type="submit" disabled={!note.trim()}>Resolve</button>
            {error && <span class="alert small" role="alert">{error.message}</span>}
          </form>
        )}
      </td>
    </tr>
  );
}
