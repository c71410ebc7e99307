// GET /jobs/{id}/events read with fetch (EventSource cannot send the Authorization header).
// The server ends each stream within a minute; we reconnect with Last-Event-ID and lose nothing.
import type { Api, Job } from "./api";

const TERMINAL = ["done", "expired", "rejected", "failed", "canceled"];
const FAILURES_BEFORE_GIVING_UP = 3;

/** Calls ``onJob`` with each change until the job ends (resolves), or until the stream cannot be
 * had (rejects: the caller polls instead), or until ``signal`` aborts. */
export async function followJob(api: Api, jobId: string, onJob: (job: Job) => void, signal: AbortSignal): Promise<void> {
  let lastId = "";
  let failures = 0;
  while (!signal.aborted) {
    try {
      const response = await api.stream(`/jobs/${encodeURIComponent(jobId)}/events`, lastId, signal);
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      let ended = false;
      for await (const event of readEvents(response.body)) {
        failures = 0;
        lastId = event.id || lastId;
        const job = JSON.parse(event.data) as Job;
        onJob(job);
        if (TERMINAL.includes(job.status)) ended = true;
      }
      if (ended) return;
    } catch (error) {
      if (signal.aborted) return;
      if (++failures >= FAILURES_BEFORE_GIVING_UP) throw error;
      await new Promise((resolve) => window.setTimeout(resolve, 1000 * failures));
    }
  }
}

async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        fields[name] = (fields[name] ?? "") + line.slice(colon + 1).replace(/^ /, "");
      }
      if (fields.data !== undefined) yield { id: fields.id ?? "", data: fields.data };
    }
  }
}
