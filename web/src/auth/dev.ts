// Local sign-in: a token minted by the stack's Clerk stand-in ("sign in as"), or a pasted one
// (`cineweave dev-token USER`). Kept in sessionStorage: the tab forgets it when closed. Tokens
// live 60 s like Clerk's: a "sign in as" session asks the stand-in for a new one when the last
// nears its end (as Clerk's getToken() does); a pasted token ends with its own life.
import { claimsOf, type Identity, type Provider, type Session } from "./session";

const KEY = "cineweave.devToken";
const AS = "cineweave.devSignInAs";
const REFRESH_MS = 15_000;

function expiryMs(token: string): number {
  const exp = claimsOf(token)?.exp;
  return typeof exp === "number" ? exp * 1000 : 0;
}

function identityOf(token: string): Identity | null {
  const claims = claimsOf(token);
  if (!claims || typeof claims.sub !== "string") return null;
  return { userId: claims.sub, isAdmin: claims.role === "admin" };
}

export class DevProvider implements Provider {
  kind = "dev" as const;
  private listeners: ((session: Session) => void)[] = [];

  constructor(private issuer: string) {}

  async restore(): Promise<Session | null> {
    const token = sessionStorage.getItem(KEY);
    const as = sessionStorage.getItem(AS);
    if (token && expiryMs(token) < Date.now() + 5_000 && as) {
      const { userId, admin } = JSON.parse(as) as { userId: string; admin: boolean };
      try {
        return this.session(await this.mint(userId, admin), true);
      } catch {
        return null;
      }
    }
    return token ? this.session(token, Boolean(as)) : null;
  }

  onSignedIn(listener: (session: Session) => void): void {
    this.listeners.push(listener);
  }

  /** "Sign in as": the stand-in mints a token for this user id (loopback only, never production). */
  async signInAs(userId: string, admin: boolean): Promise<void> {
    const token = await this.mint(userId, admin);
    sessionStorage.setItem(AS, JSON.stringify({ userId, admin }));
    this.signedIn(token, true);
  }

  usePastedToken(token: string): void {
    sessionStorage.removeItem(AS);
    this.signedIn(token.trim(), false);
  }

  private async mint(userId: string, admin: boolean): Promise<string> {
    const response = await fetch(`${this.issuer}/dev/sign-in`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId, admin }),
    });
    const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string };
    if (!response.ok || !body.token) throw new Error(body.error ?? `the dev issuer answered ${response.status}`);
    return body.token;
  }

  private signedIn(token: string, renewable: boolean): void {
    const session = this.session(token, renewable);
    if (!session) throw new Error("that is not a current session token (it needs sub and an unexpired exp)");
    this.listeners.forEach((listener) => listener(session));
  }

  private session(first: string, renewable: boolean): Session | null {
    const identity = identityOf(first);
    if (!identity || expiryMs(first) < Date.now() + 5_000) {
      sessionStorage.removeItem(KEY);
      return null;
    }
    sessionStorage.setItem(KEY, first);
    let current = first;
    return {
      identity,
      token: async () => {
        if (renewable && expiryMs(current) - Date.now() < REFRESH_MS) {
          current = await this.mint(identity.userId, identity.isAdmin);
          sessionStorage.setItem(KEY, current);
        }
        return current;
      },
      signOut: async () => {
        sessionStorage.removeItem(KEY);
        sessionStorage.removeItem(AS);
      },
    };
  }
}
