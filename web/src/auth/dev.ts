// Local sign-in: a token minted by the stack's Clerk stand-in ("sign in as"), or a pasted one
// (`cineweave dev-token USER`). Kept in sessionStorage: the tab forgets it when closed.
import { claimsOf, type Identity, type Provider, type Session } from "./session";

const KEY = "cineweave.devToken";

function identityOf(token: string): Identity | null {
  const claims = claimsOf(token);
  if (!claims || typeof claims.sub !== "string") return null;
  const exp = typeof claims.exp === "number" ? claims.exp : 0;
  if (exp * 1000 < Date.now() + 5_000) return null;
  return { userId: claims.sub, isAdmin: claims.role === "admin" };
}

export class DevProvider implements Provider {
  kind = "dev" as const;
  private listeners: ((session: Session) => void)[] = [];

  constructor(private issuer: string) {}

  async restore(): Promise<Session | null> {
    const token = sessionStorage.getItem(KEY);
    return token ? this.session(token) : null;
  }

  onSignedIn(listener: (session: Session) => void): void {
    this.listeners.push(listener);
  }

  /** "Sign in as": the stand-in mints a token for this user id (loopback only, never production). */
  async signInAs(userId: string, admin: boolean): Promise<void> {
    const response = await fetch(`${this.issuer}/dev/sign-in`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId, admin }),
    });
    const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string };
    if (!response.ok || !body.token) throw new Error(body.error ?? `the dev issuer answered ${response.status}`);
    this.usePastedToken(body.token);
  }

  usePastedToken(token: string): void {
    const session = this.session(token.trim());
    if (!session) throw new Error("that is not a current session token (it needs sub and an unexpired exp)");
    sessionStorage.setItem(KEY, token.trim());
    this.listeners.forEach((listener) => listener(session));
  }

  private session(token: string): Session | null {
    const identity = identityOf(token);
    if (!identity) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    return {
      identity,
      token: async () => token,
      signOut: async () => sessionStorage.removeItem(KEY),
    };
  }
}
