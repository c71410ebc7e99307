// Production sign-in: Clerk's browser SDK, bundled (a lazy chunk, loaded only in "clerk" mode).
// Clerk keeps the session in its cookie and refreshes the 60 s session token; every API call asks
// for the current one. The admin role comes from a session-token claim `role: "admin"` (set it in
// Clerk's session-token template from public metadata) or the API's ADMIN_USER_IDS allow-list.
import { claimsOf, type Provider, type Session } from "./session";

type ClerkInstance = InstanceType<typeof import("@clerk/clerk-js").Clerk>;

export class ClerkProvider implements Provider {
  kind = "clerk" as const;
  private clerk: ClerkInstance | null = null;
  private listeners: ((session: Session) => void)[] = [];

  constructor(private publishableKey: string) {}

  private async load(): Promise<ClerkInstance> {
    if (!this.clerk) {
      const { Clerk } = await import("@clerk/clerk-js");
      const clerk = new Clerk(this.publishableKey);
      await clerk.load();
      clerk.addListener(({ session }) => {
        if (session) void this.current().then((s) => s && this.listeners.forEach((listener) => listener(s)));
      });
      this.clerk = clerk;
    }
    return this.clerk;
  }

  async restore(): Promise<Session | null> {
    await this.load();
    return this.current();
  }

  onSignedIn(listener: (session: Session) => void): void {
    this.listeners.push(listener);
  }

  /** Clerk's own sign-in form, mounted into the sign-in page. */
  async mount(node: HTMLDivElement): Promise<void> {
    (await this.load()).mountSignIn(node);
  }

  private async current(): Promise<Session | null> {
    const clerk = this.clerk;
    if (!clerk?.session || !clerk.user) return null;
    const token = (await clerk.session.getToken()) ?? "";
    return {
      identity: { userId: clerk.user.id, isAdmin: claimsOf(token)?.role === "admin" },
      token: async () => (await clerk.session?.getToken()) ?? "",
      signOut: async () => clerk.signOut(),
    };
  }
}
