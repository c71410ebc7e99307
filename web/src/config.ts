// Runtime configuration, read from /app/config.json so one build serves every environment.
// Locally the gateway writes it (dev sign-in at the Clerk stand-in); in production the deploy
// uploads config.production.json beside the assets (Clerk's browser SDK, the API's origin).

export type AuthConfig = { mode: "dev"; issuer: string } | { mode: "clerk"; publishableKey: string };

export interface AppConfig {
  apiBase: string; // "" when the API shares the app's origin
  auth: AuthConfig;
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const config = (await response.json()) as AppConfig;
  if (config.auth?.mode !== "dev" && config.auth?.mode !== "clerk") throw new Error("config.json: auth.mode must be dev or clerk");
  return { ...config, apiBase: (config.apiBase ?? "").replace(/\/$/, "") };
}
