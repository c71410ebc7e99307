// Small shared pieces: status pill, error box, progress bar, empty state.
import type { ComponentChildren } from "preact";
import type { ApiError, JobStatus } from "./api";
import { STATUS_LABEL } from "./format";

export function StatusPill({ status }: { status: JobStatus }) {
  return (
    <span class={`pill pill-${status}`} data-status={status}>
      {STATUS_LABEL[status] ?? status}
    </span>
  );
}

export function ErrorBox({ error, title }: { error: ApiError | Error | null; title?: string }) {
  if (!error) return null;
  return (
    <div class="alert" role="alert">
      {title && <strong>{title} </strong>}
      {error.message}
    </div>
  );
}

export function Progress({ percent, label }: { percent: number; label: string }) {
  return (
    <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-label={label}>
      <div class="progress-bar" style={{ width: `${Math.max(2, percent)}%` }} />
    </div>
  );
}

export function Card({ children, class: extra = "" }: { children: ComponentChildren; class?: string }) {
  return <section class={`card ${extra}`}>{children}</section>;
}

export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" aria-hidden="true" /> {label}…
    </div>
  );
}
