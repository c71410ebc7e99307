import { useState } from "preact/hooks";
import { ApiError } from "../api";
import { when } from "../format";
import { useApp, useLoad } from "../state";
import { ErrorBox } from "../ui";

/** The Account page's API keys: create (the key is shown once), list by prefix, revoke. */
export function ApiKeys() {
  const { api } = useApp();
  const keys = useLoad(() => api.apiKeys(), [api]);
  const [name, setName] = useState("");
  const [shown, setShown] = useState<{ name: string; key: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      keys.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  const create = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const made = await api.createApiKey(name.trim());
      setShown({ name: made.name, key: made.key });
      setName("");
    });
  };

  return (
    <section class="card" data-testid="api-keys">
      <h2 class="h3">API keys</h2>
      <p class="muted small">
        A key lets your own backend create and read jobs, credits and webhooks as you:{" "}
        <code>Authorization: Bearer cw_live_…</code>. It never reaches admin pages or makes more keys.
      </p>
      <form class="webhook-form" onSubmit={create}>
        <label>
          Key name
          <input required maxLength={100} placeholder="studio backend" value={name} data-testid="api-key-name"
            onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <button class="primary" type="submit" disabled={!name.trim()} data-testid="api-key-create">Create key</button>
      </form>
      <ErrorBox error={error} />
      {shown && (
        <div class="alert info" data-testid="api-key-shown">
          <strong>{shown.name}:</strong> <code>{shown.key}</code>
          <p class="small">Copy it now: it is shown this once, and CineWeave keeps only a hash of it.</p>
        </div>
      )}
      <ErrorBox error={keys.error} />
      {keys.data && keys.data.keys.length === 0 && <p class="muted small">No keys yet.</p>}
      {keys.data && keys.data.keys.length > 0 && (
        <ul class="endpoint-list" data-testid="api-key-list">
          {keys.data.keys.map((key) => (
            <li key={key.keyId}>
              <strong>{key.name}</strong> <code>{key.prefix}…</code>{" "}
              <span class="muted small">created {when(key.createdAt)} · {key.lastUsedAt ? `last used ${when(key.lastUsedAt)}` : "never used"}</span>
              <button class="ghost danger" data-testid="api-key-revoke" onClick={() => act(() => api.revokeApiKey(key.keyId))}>Revoke</button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
