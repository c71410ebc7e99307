import { useEffect, useMemo, useState } from "preact/hooks";
import { Api } from "./api";
import { providerFor, type Session } from "./auth";
import type { AppConfig } from "./config";
import { Account } from "./pages/Account";
import { Admin } from "./pages/Admin";
import { Create } from "./pages/Create";
import { Dashboard } from "./pages/Dashboard";
import { JobPage } from "./pages/JobPage";
import { SignIn } from "./pages/SignIn";
import { href, navigate, onLinkClick, usePath } from "./router";
import { Ctx, type AppContext } from "./state";
import { Spinner } from "./ui";

export function App({ config }: { config: AppConfig }) {
  const provider = useMemo(() => providerFor(config.auth), [config]);
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  useEffect(() => {
    provider.onSignedIn((s) => setSession(s));
    provider.restore().then(setSession, () => setSession(null));
  }, [provider]);

  if (session === undefined) return <Spinner label="Starting" />;
  if (session === null) return <SignIn provider={provider} />;
  return <SignedIn config={config} session={session} onSignOut={() => session.signOut().then(() => setSession(null))} />;
}

function SignedIn({ config, session, onSignOut }: { config: AppConfig; session: Session; onSignOut: () => void }) {
  const path = usePath();
  const [balance, setBalance] = useState<number | null>(null);
  const api = useMemo(() => new Api(config.apiBase, session), [config, session]);
  const context: AppContext = { api, session, balance, setBalance };
  useEffect(() => {
    api.credits().then((c) => setBalance(c.balance), () => undefined);
  }, [api, path]);

  return (
    <Ctx.Provider value={context}>
      <div class="shell" onClick={onLinkClick as unknown as (e: Event) => void}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="topbar">
          <a class="brand" href={href("/")} aria-label="CineWeave home">
            <span class="brand-mark" aria-hidden="true" />
            <span class="brand-name">CineWeave</span>
          </a>
          <nav class="nav" aria-label="Main">
            <NavLink path="/" current={path} label="Dashboard" />
            <NavLink path="/create" current={path} label="Create" />
            <NavLink path="/account" current={path} label="Account" />
            {(session.identity.isAdmin || path.startsWith("/admin")) && <NavLink path="/admin" current={path} label="Admin" />}
          </nav>
          <div class="who">
            <a class="balance-chip" href={href("/account")} title="Credits remaining" data-testid="header-balance">
              <span aria-hidden="true">◆</span> {balance ?? "–"} <span class="sr-hide-sm">credits</span>
            </a>
            <button class="ghost small" onClick={onSignOut} title={`Signed in as ${session.identity.userId}`}>
              Sign out
            </button>
          </div>
        </header>
        <main id="main" class="main">
          <Page path={path} />
        </main>
        <footer class="footer">720p · 24 fps · 1 credit per 5 s of video</footer>
      </div>
    </Ctx.Provider>
  );
}

function NavLink({ path, current, label }: { path: string; current: string; label: string }) {
  const active = path === "/" ? current === "/" || current.startsWith("/jobs/") : current.startsWith(path);
  return (
    <a href={href(path)} class={active ? "active" : ""} aria-current={active ? "page" : undefined}>
      {label}
    </a>
  );
}

function Page({ path }: { path: string }) {
  const job = path.match(/^\/jobs\/([A-Za-z0-9_-]{1,64})$/);
  if (path === "/") return <Dashboard />;
  if (path === "/create") return <Create />;
  if (job) return <JobPage jobId={job[1]} />;
  if (path === "/account") return <Account />;
  if (path === "/admin") return <Admin />;
  return (
    <div class="empty">
      <h1>Nothing here</h1>
      <p>
        That page does not exist. <button class="link" onClick={() => navigate("/")}>Back to the dashboard</button>
      </p>
    </div>
  );
}
