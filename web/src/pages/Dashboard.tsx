import { useEffect, useState } from "preact/hooks";
import { ACTIVE, type Job } from "../api";
import { ago, plural } from "../format";
import { href } from "../router";
import { useApp, useLoad, useNow } from "../state";
import { ErrorBox, Progress, Spinner, StatusPill } from "../ui";

export function Dashboard() {
  const { api, session, setBalance } = useApp();
  const credits = useLoad(() => api.credits(), [api]);
  const jobs = useLoad(() => api.jobs(12), [api], 3000, (page) => page.jobs.some((j) => ACTIVE.includes(j.status)));
  const now = useNow(30_000);
  useEffect(() => {
    if (credits.data) setBalance(credits.data.balance);
  }, [credits.data]);

  return (
    <div class="page">
      <section class="hero-card">
        <div>
          <p class="eyebrow">Welcome back, {session.identity.userId}</p>
          <h1 class="display">Your studio</h1>
          <p class="lede">Describe a scene, pick a length, and watch it render.</p>
        </div>
        <div class="hero-side">
          <div class="stat" aria-live="polite">
            <span class="stat-value" data-testid="balance">{credits.data ? credits.data.balance : "–"}</span>
            <span class="stat-label">credits remaining</span>
            {credits.data && <span class="stat-hint">{plural(credits.data.balance * 5, "second")} of video</span>}
          </div>
          <a class="button primary big" href={href("/create")}>
            + New video
          </a>
        </div>
      </section>
      <ErrorBox error={credits.error} />

      <div class="section-head">
        <h2>Recent renders</h2>
        {jobs.data && jobs.data.jobs.length > 0 && <span class="muted small">{plural(jobs.data.jobs.length, "clip")}</span>}
      </div>
      <ErrorBox error={jobs.error} />
      {jobs.loading && !jobs.data && <Spinner />}
      {jobs.data && jobs.data.jobs.length === 0 && (
        <div class="empty card">
          <h3>No videos yet</h3>
          <p class="muted">Your first clip is one prompt away.</p>
          <a class="button primary" href={href("/create")}>Create your first video</a>
        </div>
      )}
      <ul class="job-grid" data-testid="recent-jobs">
        {jobs.data?.jobs.map((job) => <JobTile key={job.jobId} job={job} now={now} />)}
      </ul>
    </div>
  );
}

function JobTile({ job, now }: { job: Job; now: number }) {
  const [moving, setMoving] = useState(false); // the preview plays while the tile is hovered or focused
  const still = moving && job.previewUrl ? job.previewUrl : job.posterUrl;
  const show = () => setMoving(true);
  const hide = () => setMoving(false);
  return (
    <li>
      <a class={`job-tile status-${job.status}`} href={href(`/jobs/${job.jobId}`)} data-job-id={job.jobId}
        onMouseEnter={show} onMouseLeave={hide} onFocus={show} onBlur={hide}>
        <div class="job-tile-frame" aria-hidden="true">
          {still && <img class="job-tile-still" src={still} alt="" loading="lazy" data-testid={moving && job.previewUrl ? "tile-preview" : "tile-poster"} />}
          <span class="job-tile-duration">{job.durationSec}s</span>
        </div>
        <div class="job-tile-body">
          <p class="job-tile-prompt">{job.prompt}</p>
          <div class="job-tile-meta">
            <StatusPill status={job.status} />
            <span class="muted small">{ago(job.createdAt, now)}</span>
          </div>
          {job.status === "running" && job.progress && <Progress percent={job.progress.percent} label="Render progress" />}
        </div>
      </a>
    </li>
  );
}
