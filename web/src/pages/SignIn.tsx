import { useEffect, useRef, useState } from "preact/hooks";
import { ClerkProvider, DevProvider, type Provider } from "../auth";

export function SignIn({ provider }: { provider: Provider }) {
  return (
    <div class="signin">
      <div class="signin-hero">
        <span class="brand-mark big" aria-hidden="true" />
        <h1 class="display">
          Weave your words into <span class="gradient-text">cinema</span>.
        </h1>
        <p class="lede">A prompt — or a prompt and a picture — becomes a 720p, 24 fps clip of 5, 10 or 15 seconds.</p>
      </div>
      <div class="card signin-card">
        {provider instanceof DevProvider && <DevSignIn provider={provider} />}
        {provider instanceof ClerkProvider && <ClerkSignIn provider={provider} />}
      </div>
    </div>
  );
}

function ClerkSignIn({ provider }: { provider: ClerkProvider }) {
  const node = useRef<HTMLDivElement>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (node.current) provider.mount(node.current).catch((e: Error) => setError(e.message));
  }, [provider]);
  return (
    <>
      <div ref={node} />
      {error && <p class="alert">{error}</p>}
    </>
  );
}

function DevSignIn({ provider }: { provider: DevProvider }) {
  const [userId, setUserId] = useState("user_demo");
  const [admin, setAdmin] = useState(false);
  const [token, setToken] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const signIn = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      await provider.signInAs(userId.trim(), admin);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const paste = (event: Event) => {
    event.preventDefault();
    try {
      provider.usePastedToken(token);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <>
      <h2>Sign in to the local stack</h2>
      <p class="muted small">
        Development sign-in: the stack's Clerk stand-in mints a session token. Production uses Clerk.
      </p>
      <form onSubmit={signIn} class="stack">
        <label class="field">
          <span>User id</span>
          <input name="userId" value={userId} onInput={(e) => setUserId(e.currentTarget.value)} required pattern="[A-Za-z0-9_\-]{1,64}" autocomplete="username" />
        </label>
        <label class="check">
          <input type="checkbox" name="admin" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} /> with the admin role
        </label>
        <button class="primary" type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in as this user"}
        </button>
      </form>
      <div class="divider"><span>or</span></div>
      <form onSubmit={paste} class="stack">
        <label class="field">
          <span>Paste a session token</span>
          <textarea name="token" rows={3} value={token} onInput={(e) => setToken(e.currentTarget.value)} placeholder="cineweave dev-token user_demo" spellcheck={false} />
        </label>
        <button class="secondary" type="submit" disabled={!token.trim()}>
          Use this token
        </button>
      </form>
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
