import { useState } from "preact/hooks";
import { ApiError, WEBHOOK_EVENTS, type WebhookEvent } from "../api";
import { when } from "../format";
import { href } from "../router";
import { useApp, useLoad } from "../state";
import { ErrorBox } from "../ui";

/** The Account page's webhooks: endpoints (create, rotate, delete), the default secret, and every delivery with its attempts. */
export function Webhooks() {
  const { api } = useApp();
  const endpoints = useLoad(() => api.webhookEndpoints(), [api]);
  const deliveries = useLoad(() => api.webhookDeliveries(20), [api], 5000);
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<WebhookEvent[]>([...WEBHOOK_EVENTS]);
  const [shown, setShown] = useState<{ label: string; secret: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      endpoints.reload();
      deliveries.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  const create = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const made = await api.createWebhookEndpoint({ url: url.trim(), events });
      setShown({ label: `Signing secret of ${made.url}`, secret: made.secret });
      setUrl("");
    });
  };
  const toggle = (event: WebhookEvent) =>
    setEvents(events.includes(event) ? events.filter((e) => e !== event) : [...events, event]);

  return (
    <section class="card" data-testid="webhooks">
      <h2 class="h3">Webhooks</h2>
      <p class="muted small">
        CineWeave posts each job event to your endpoints, signed per Standard Webhooks (<code>webhook-id</code>,{" "}
        <code>webhook-timestamp</code>, <code>webhook-signature</code>), retried for a day if your server is down.
      </p>
      <form class="webhook-form" onSubmit={create}>
        <label>
          Endpoint URL
          <input type="url" required placeholder="https://example.com/cineweave" value={url} data-testid="webhook-url"
            onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
        </label>
        <fieldset class="chips">
          <legend class="small muted">Events</legend>
          {WEBHOOK_EVENTS.map((event) => (
            <label key={event} class="chip">
              <input type="checkbox" checked={events.includes(event)} onChange={() => toggle(event)} /> {event}
            </label>
          ))}
        </fieldset>
        <button class="primary" type="submit" disabled={!url.trim() || events.length === 0} data-testid="webhook-add">Add endpoint</button>
        <button class="secondary" type="button" data-testid="webhook-default-secret"
          onClick={() => act(async () => setShown({ label: "Default secret (signs each job's own webhookUrl)", secret: (await api.webhookSecret()).secret }))}>
          Show default secret
        </button>
      </form>
      <ErrorBox error={error} />
      {shown && (
        <div class="alert info" data-testid="webhook-secret">
          <strong>{shown.label}:</strong> <code>{shown.secret}</code>
          <p class="small">Copy it now: an endpoint's secret is shown this once.</p>
        </div>
      )}
      {endpoints.data && endpoints.data.endpoints.length > 0 && (
        <ul class="endpoint-list" data-testid="webhook-endpoints">
          {endpoints.data.endpoints.map((endpoint) => (
            <li key={endpoint.id}>
              <code>{endpoint.url}</code> <span class="muted small">{endpoint.events.join(", ")}</span>
              {endpoint.previousSecretExpiresAt && <span class="small muted"> · old secret valid until {when(endpoint.previousSecretExpiresAt)}</span>}
              <button class="ghost" onClick={() => act(async () => {
                const rotated = await api.rotateWebhookSecret(endpoint.id);
                setShown({ label: `New signing secret of ${rotated.url}`, secret: rotated.secret });
              })}>Rotate secret</button>
              <button class="ghost danger" onClick={() => act(() => api.deleteWebhookEndpoint(endpoint.id))}>Delete</button>
            </li>
          ))}
        </ul>
      )}
      <h3 class="h4">Recent deliveries</h3>
      <ErrorBox error={deliveries.error} />
      {deliveries.data && deliveries.data.deliveries.length === 0 && <p class="muted small">Nothing delivered yet.</p>}
      {deliveries.data && deliveries.data.deliveries.length > 0 && (
        <div class="table-wrap">
          <table class="table" data-testid="webhook-deliveries">
            <thead><tr><th>When</th><th>Event</th><th>Status</th><th>Attempts</th><th /></tr></thead>
            <tbody>
              {deliveries.data.deliveries.map((d) => (
                <tr key={d.id}>
                  <td>{when(d.createdAt)}</td>
                  <td>{d.event} · <a href={href(`/jobs/${d.jobId}`)}>video</a></td>
                  <td><span class={`pill pill-delivery-${d.status}`}>{d.status}</span>
                    {d.nextAttemptAt && d.status === "retrying" && <span class="small muted"> next {when(d.nextAttemptAt)}</span>}</td>
                  <td class="small">{d.attempts.map((a) => `${a.statusCode ?? a.error ?? "?"} (${Math.round(a.latencyMs)} ms)`).join(" · ") || "–"}</td>
                  <td><button class="ghost" onClick={() => act(() => api.redeliverWebhook(d.id))}>Send again</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
