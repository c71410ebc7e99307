// What the app needs from any sign-in provider: a fresh session token per API call.

export interface Identity {
  userId: string;
  isAdmin: boolean; // a hint for the UI (the admin link); the API decides
}

export interface Session {
  identity: Identity;
  token(): Promise<string>;
  signOut(): Promise<void>;
}

export interface Provider {
  kind: "dev" | "clerk";
  /** The session if the user is signed in now (e.g. a stored dev token, Clerk's cookie). */
  restore(): Promise<Session | null>;
  /** Calls back with the session once the user has signed in through the provider's UI. */
  onSignedIn(listener: (session: Session) => void): void;
}

export function claimsOf(token: string): Record<string, unknown> | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return null;
  }
}
