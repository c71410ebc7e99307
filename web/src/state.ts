import { createContext } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "./api";
import { ApiError } from "./api";
import type { Session } from "./auth";

export interface AppContext {
  api: Api;
  session: Session;
  /** The balance shown in the header; pages that learn a newer one pass it on. */
  balance: number | null;
  setBalance(balance: number): void;
}

export const Ctx = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const value = useContext(Ctx);
  if (!value) throw new Error("useApp outside the signed-in app");
  return value;
}

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload(): void;
}

/** Runs ``load`` now (and every ``pollMs`` while ``keepPolling(data)``), cancelling on unmount. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number, keepPolling?: (data: T) => boolean): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [round, setRound] = useState(0);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    let timer: number | undefined;
    const run = async () => {
      try {
        const value = await load();
        if (!alive.current) return;
        setData(value);
        setError(null);
        if (pollMs && (!keepPolling || keepPolling(value))) timer = window.setTimeout(run, pollMs);
      } catch (caught) {
        if (!alive.current) return;
        const apiError = caught instanceof ApiError ? caught : new ApiError(0, "client", String(caught));
        setError(apiError);
        if (pollMs && apiError.status !== 403 && apiError.status !== 404) timer = window.setTimeout(run, pollMs * 2);
      } finally {
        if (alive.current) setLoading(false);
      }
    };
    setLoading(true);
    void run();
    return () => {
      alive.current = false;
      window.clearTimeout(timer);
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data, error, loading, reload };
}

/** Re-renders every ``ms`` (countdowns, "x min ago"). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [ms]);
  return now;
}
