// Where a clip came from and what was made from it, and the Remix action of a done clip.
import { useState } from "preact/hooks";
import { ApiError, type Job } from "../api";
import { STATUS_LABEL, plural, when } from "../format";
import { href, navigate } from "../router";
import { useApp } from "../state";

const MADE_BY = { remix: "Remix", extend: "Extension" } as const;
const MADE_FROM = { remix: "Remix of", extend: "Extends" } as const;

export function Lineage({ job }: { job: Job }) {
  if (!job.parentJobId && job.children.length === 0) return null;
  return (
    <div class="lineage" data-testid="lineage">
      {job.parentJobId && job.lineage && (
        <p class="small">{MADE_FROM[job.lineage]} <a href={href(`/jobs/${job.parentJobId}`)} data-testid="parent-link">{job.parentJobId}</a></p>
      )}
      {job.children.length > 0 && (
        <>
          <h3 class="small">Made from this clip</h3>
          <ul class="lineage-children" data-testid="children">
            {job.children.map((child) => (
              <li key={child.jobId}>
                <a href={href(`/jobs/${child.jobId}`)} data-job-id={child.jobId}>{MADE_BY[child.lineage]}</a>
                <span class="muted small"> · {STATUS_LABEL[child.status]} · {when(child.createdAt)}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** A new prompt on a done clip's settings and seed: a new job, charged like any. */
export function RemixForm({ job }: { job: Job }) {
  const { api } = useApp();
  const [open, setOpen] = useState(false);
  const [prompt, setPrompt] = useState(job.prompt);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [attemptKey, setAttemptKey] = useState(() => crypto.randomUUID());
  if (!open) {
    return <button class="secondary full" onClick={() => setOpen(true)} data-testid="remix">Remix with a new prompt</button>;
  }
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api.remix(job.jobId, { prompt }, attemptKey);
      navigate(`/jobs/${created.jobId}`);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
      setBusy(false);
    }
  };
  return (
    <form class="remix-form stack" onSubmit={submit} data-testid="remix-form">
      <label for="remix-prompt" class="label">New prompt</label>
      <textarea id="remix-prompt" rows={4} value={prompt}
        onInput={(e) => { setPrompt(e.currentTarget.value); setAttemptKey(crypto.randomUUID()); }} />
      <p class="muted small">Same length, frame, image and seed ({job.seed ?? "random"}); only the prompt changes.</p>
      {error && <p class="field-error" role="alert" data-testid="remix-error">{error}</p>}
      <button class="primary full" type="submit" disabled={busy || prompt.trim() === ""}>
        {busy ? "Sending…" : `Remix · ${plural(job.credits, "credit")}`}
      </button>
    </form>
  );
}

const MAX_VIDEO_SECONDS = 30;

/** Continue a done clip from its last frame: the new video is this one followed by the new seconds. */
export function ExtendForm({ job }: { job: Job }) {
  const { api } = useApp();
  const total = job.video?.durationSec ?? job.durationSec;
  const choices = [5, 10, 15].filter((seconds) => total + seconds <= MAX_VIDEO_SECONDS);
  const [open, setOpen] = useState(false);
  const [seconds, setSeconds] = useState(5);
  const [prompt, setPrompt] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [attemptKey, setAttemptKey] = useState(() => crypto.randomUUID());
  if (choices.length === 0) {
    return <p class="muted small" data-testid="extend-limit">At {total} s this clip is as long as an extended video gets ({MAX_VIDEO_SECONDS} s).</p>;
  }
  if (!open) {
    return <button class="secondary full" onClick={() => setOpen(true)} data-testid="extend">Extend this clip</button>;
  }
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await api.extend(job.jobId, { durationSec: seconds, ...(prompt.trim() ? { prompt } : {}) }, attemptKey);
      navigate(`/jobs/${created.jobId}`);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
      setBusy(false);
    }
  };
  const fresh = () => setAttemptKey(crypto.randomUUID());
  return (
    <form class="remix-form stack" onSubmit={submit} data-testid="extend-form">
      <span class="label">Add</span>
      <div class="segmented" role="radiogroup">
        {choices.map((value) => (
          <label class={`segment ${seconds === value ? "selected" : ""}`} key={value}>
            <input type="radio" name="extendSec" value={value} checked={seconds === value} onChange={() => { setSeconds(value); fresh(); }} />
            <span class="segment-main">+{value} s</span>
            <span class="segment-sub">{plural(value / 5, "credit")}</span>
          </label>
        ))}
      </div>
      <label for="extend-prompt" class="label">What happens next <span class="muted">(optional)</span></label>
      <textarea id="extend-prompt" rows={3} value={prompt} placeholder={job.shots?.at(-1)?.prompt ?? job.prompt}
        onInput={(e) => { setPrompt(e.currentTarget.value); fresh(); }} />
      <p class="muted small">Continues from the last frame: a {total + seconds} s video, this clip first. Only the new seconds are charged.</p>
      {error && <p class="field-error" role="alert" data-testid="extend-error">{error}</p>}
      <button class="primary full" type="submit" disabled={busy}>{busy ? "Sending…" : `Extend by ${seconds} s · ${plural(seconds / 5, "credit")}`}</button>
    </form>
  );
}
