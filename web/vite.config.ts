// The app is static files under /app/ (locally the gateway serves web/dist there; in production
// the bucket behind the CDN). Nothing is fetched from a CDN at run time: every import is bundled.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/app/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000, // Clerk's SDK is one lazy chunk, loaded only when config.json says "clerk"
  },
  server: {
    // `npm run dev`: the app on Vite, the API and config.json from the local stack's gateway.
    proxy: Object.fromEntries(
      ["/jobs", "/credits", "/plans", "/account", "/subscribe", "/topup", "/admin", "/app/config.json"].map((path) => [
        path,
        { target: process.env.CINEWEAVE_API ?? "http://127.0.0.1:8080", changeOrigin: false },
      ]),
    ),
  },
});
