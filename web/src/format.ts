import type { JobProgress } from "./api";

export function money(minor: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 100);
}

export function usd(amount: number): string {
  const digits = Math.abs(amount) < 1 ? 4 : 2;
  return new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: digits, maximumFractionDigits: digits }).format(amount);
}

export function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function ago(iso: string, now = Date.now()): string {
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** "23 h 59 min", "4 min 10 s", "expired" */
export function timeLeft(iso: string, now = Date.now()): string {
  const seconds = Math.floor((new Date(iso).getTime() - now) / 1000);
  if (seconds <= 0) return "expired";
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s} s`;
  return `${s} s`;
}

export const STATUS_LABEL: Record<string, string> = {
  pending: "Pending", reserved: "Reserved", queued: "Queued", running: "Rendering", done: "Ready", expired: "Expired",
  rejected: "Rejected", failed: "Failed", canceled: "Canceled",
};

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "segment 2 of 3, denoising 14/50": the stage, the segment it belongs to, the step. */
export function describeProgress(progress: JobProgress): string {
  let text = progress.step && progress.steps ? `${progress.stage} ${progress.step}/${progress.steps}` : progress.stage;
  if (progress.segment && (progress.segments ?? 1) > 1) text = `segment ${progress.segment} of ${progress.segments}, ${text}`;
  return text;
}
