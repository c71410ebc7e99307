import type { AuthConfig } from "../config";
import { ClerkProvider } from "./clerk";
import { DevProvider } from "./dev";
import type { Provider } from "./session";

export type { Identity, Provider, Session } from "./session";
export { ClerkProvider, DevProvider };

export function providerFor(auth: AuthConfig): Provider {
  return auth.mode === "clerk" ? new ClerkProvider(auth.publishableKey) : new DevProvider(auth.issuer);
}
