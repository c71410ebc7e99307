import { useEffect, useState } from "preact/hooks";
import { ACTIVE, ApiError, type Job, type JobStatus } from "../api";
import { followJob } from "../events";
import { STATUS_LABEL, describeProgress, plural, timeLeft, when } from "../format";
import { href } from "../router";
import { useApp, useLoad, useNow } from "../state";
import { ErrorBox, Progress, Spinner, StatusPill } from "../ui";
import { ExtendForm, Lineage, RemixForm } from "./Lineage";

const STEPS: { label: string; reached: JobStatus[] }[] = [
  { label: "Submitted", reached: ["pending", "reserved", "queued", "running", "done", "expired"] },
  { label: "Queued", reached: ["queued", "running", "done", "expired"] },
  { label: "Rendering", reached: ["running", "done", "expired"] },
  { label: "Ready", reached: ["done", "expired"] },
];

export function JobPage({ jobId }: { jobId: string }) {
  const { api, setBalance } = useApp();
  const [override, setOverride] = useState<Job | null>(null);
  // Changes arrive over the job's event stream; if it cannot be had, the page polls instead.
  const [streamed, setStreamed] = useState<Job | null>(null);
  const [streamFailed, setStreamFailed] = useState(false);
  useEffect(() => {
    const abort = new AbortController();
    setStreamed(null);
    setStreamFailed(false);
    followJob(api, jobId, setStreamed, abort.signal).catch(() => setStreamFailed(true));
    return () => abort.abort();
  }, [api, jobId]);
  const loaded = useLoad(() => api.job(jobId), [api, jobId, streamFailed], 1500, (job) => streamFailed && ACTIVE.includes(job.status));
  const job = newest(loaded.data, streamed, override);
  const now = useNow(1000);
  const [cancelError, setCancelError] = useState<ApiError | null>(null);

  // The balance moves when a job is reserved, refunded or rejected: refresh the header's.
  useEffect(() => {
    api.credits().then((c) => setBalance(c.balance), () => undefined);
  }, [job?.status]);
  // A presigned link lives at most an hour: fetch a new one when it lapses.
  useEffect(() => {
    if (!job?.video) return;
    const timer = window.setTimeout(loaded.reload, Math.max(1000, new Date(job.video.urlExpiresAt).getTime() - Date.now()));
    return () => window.clearTimeout(timer);
  }, [job?.video?.urlExpiresAt]);

  if (loaded.error?.status === 404) {
    return (
      <div class="page narrow empty">
        <h1>Video not found</h1>
        <p class="muted">It may belong to another account, or the link is wrong.</p>
        <a class="button secondary" href={href("/")}>Back to the dashboard</a>
      </div>
    );
  }
  if (!job) return <div class="page"><ErrorBox error={loaded.error} /><Spinner /></div>;

  const cancel = async () => {
    setCancelError(null);
    try {
      setOverride(await api.cancel(job.jobId));
      loaded.reload();
    } catch (e) {
      setCancelError(e as ApiError);
    }
  };
  const active = ACTIVE.includes(job.status);

  return (
    <div class="page">
      <a class="back" href={href("/")}>← All videos</a>
      <div class="job-layout">
        <section class="stage card" aria-label="Video">
          <Screen job={job} />
        </section>
        <aside class="job-side">
          <div class="card">
            <div class="job-status-row">
              <StatusPill status={job.status} />
              <span class="muted small" data-testid="job-status-text" aria-live="polite">{describe(job)}</span>
            </div>
            {job.status !== "rejected" && job.status !== "failed" && job.status !== "canceled" && <Timeline status={job.status} />}
            {job.status === "running" && (
              <div class="progress-block">
                <Progress percent={job.progress?.percent ?? 0} label="Render progress" />
                <span class="small muted" data-testid="progress">
                  {job.progress ? `${describeProgress(job.progress)} · ${job.progress.percent}%` : "starting…"}
                </span>
              </div>
            )}
            {job.video && job.expiresAt && (
              <>
                <a class="button primary full" href={job.video.url} download={`${job.jobId}.mp4`} data-testid="download" rel="noopener">
                  ⬇ Download MP4
                </a>
                <p class="small muted expiry" data-testid="expires">
                  Deleted in <strong>{timeLeft(job.expiresAt, now)}</strong> ({when(job.expiresAt)}). Download it to keep it.
                </p>
              </>
            )}
            {job.error && (
              <div class="alert" role="alert" data-testid="job-error">
                <strong>{job.error.code.replace(/_/g, " ")}:</strong> {job.error.message}
                {(job.status === "failed" || job.status === "canceled") && <p class="small">Your credits were refunded.</p>}
              </div>
            )}
            {job.status === "canceled" && !job.error && <p class="small muted">Canceled — your credits were refunded.</p>}
            {job.video && (
              <p class="small provenance" data-testid="provenance">
                {job.contentCredentials ? "AI-made, with Content Credentials" : "AI-made"}
                {job.video.model && <span class="muted"> · {job.video.model}</span>}
              </p>
            )}
            {job.status === "done" && job.video && (
              <div class="stack creator-actions">
                <ExtendForm key={`extend-${job.jobId}`} job={job} />
                {job.lineage !== "extend" && <RemixForm key={`remix-${job.jobId}`} job={job} />}
              </div>
            )}
            {active && (
              <button class="ghost danger full" onClick={cancel} data-testid="cancel">
                Cancel and refund
              </button>
            )}
            <ErrorBox error={cancelError} />
          </div>
          <div class="card details">
            <h2 class="h3">{job.shots ? "Shots" : "Prompt"}</h2>
            {job.shots ? (
              <ol class="prompt-text shot-list" data-testid="shots">{job.shots.map((shot, n) => <li key={n}>{shot.prompt}</li>)}</ol>
            ) : <p class="prompt-text">{job.prompt}</p>}
            <dl class="facts">
              <dt>Length</dt><dd>{job.video?.durationSec ?? job.durationSec} s · {plural(job.credits, "credit")}</dd>
              <dt>Quality</dt><dd data-testid="quality">{job.quality === "fast" ? "Fast (3-step draft)" : "Standard"}</dd>
              <dt>Seed</dt><dd>{job.seed ?? "random"}</dd>
              {job.aspectRatio && (<><dt>Frame</dt><dd data-testid="aspect-ratio">{job.aspectRatio}</dd></>)}
              {job.negativePrompt && (<><dt>Avoid</dt><dd data-testid="negative-prompt">{job.negativePrompt}</dd></>)}
              {job.video && (<><dt>Format</dt><dd>{job.video.width}×{job.video.height} · {job.video.fps} fps</dd></>)}
              <dt>Created</dt><dd>{when(job.createdAt)}</dd>
            </dl>
            <Lineage job={job} />
          </div>
        </aside>
      </div>
    </div>
  );
}

/** The latest of the views at hand (a later ``updatedAt`` wins; on a tie, the later argument). */
function newest(...jobs: (Job | null)[]): Job | null {
  return jobs.reduce<Job | null>((best, job) => (job && (!best || job.updatedAt >= best.updatedAt) ? job : best), null);
}

function describe(job: Job): string {
  switch (job.status) {
    case "pending":
    case "reserved":
      return "Reserving credits…";
    case "queued":
      return job.queuePosition === undefined ? "Waiting for a GPU…" : queueText(job.queuePosition, job.etaSeconds);
    case "running":
      return "Rendering on the GPU…";
    case "done":
      return "Your video is ready.";
    case "failed":
      return "The render did not finish.";
    case "rejected":
      return "The render did not start.";
    case "canceled":
      return "You canceled this render.";
    default:
      return "Deleted 24 hours after it was made.";
  }
}

function queueText(ahead: number, etaSeconds?: number): string {
  const place = ahead === 0 ? "Next in line for a GPU" : `Waiting for a GPU · ${plural(ahead, "video")} ahead`;
  if (etaSeconds === undefined) return `${place}…`;
  const eta = etaSeconds < 90 ? plural(Math.max(1, Math.round(etaSeconds)), "second") : plural(Math.round(etaSeconds / 60), "minute");
  return `${place} · ready in about ${eta}`;
}

function Timeline({ status }: { status: JobStatus }) {
  return (
    <ol class="timeline">
      {STEPS.map((step) => (
        <li key={step.label} class={step.reached.includes(status) ? "reached" : ""}>
          {step.label}
        </li>
      ))}
    </ol>
  );
}

function Screen({ job }: { job: Job }) {
  const [unplayable, setUnplayable] = useState(false);
  const portrait = job.aspectRatio === "9:16";
  if (job.video) {
    return (
      <div class={`screen ${portrait ? "portrait" : ""}`}>
        <video
          key={job.video.url}
          src={job.video.url}
          poster={job.posterUrl}
          controls
          playsInline
          preload="metadata"
          data-testid="video"
          onError={() => setUnplayable(true)}
          aria-label={`Video: ${job.prompt.slice(0, 80)}`}
        />
        {unplayable && (
          <p class="screen-note" data-testid="video-unplayable">
            This browser cannot preview the file. Use Download to get the MP4.
          </p>
        )}
      </div>
    );
  }
  const running = job.status === "running";
  return (
    <div class={`screen placeholder ${portrait ? "portrait" : ""} ${ACTIVE.includes(job.status) ? "working" : ""}`}>
      <div class="screen-glow" aria-hidden="true" />
      <p class="screen-caption">
        {ACTIVE.includes(job.status) ? (running ? `Rendering · ${job.progress?.percent ?? 0}%` : "In the queue") : STATUS_LABEL[job.status]}
      </p>
    </div>
  );
}
