// The public HTTP API, and nothing else: every call carries the session token.
// Types mirror schemas/generated/openapi.json (camelCase; absent fields are omitted, not null).
import type { Session } from "./auth";

export type JobStatus = "pending" | "reserved" | "queued" | "running" | "done" | "expired" | "rejected" | "failed" | "canceled";
export type AspectRatio = "16:9" | "9:16";
export type Quality = "standard" | "fast";
export type Lineage = "remix" | "extend";
export interface CreateBody {
  prompt?: string; durationSec: number; quality?: Quality; seed?: number; aspectRatio?: AspectRatio; negativePrompt?: string;
  shots?: { prompt: string }[];
}
export const ACTIVE: JobStatus[] = ["pending", "reserved", "queued", "running"];

export interface JobProgress { stage: string; percent: number; step?: number; steps?: number; segment?: number; segments?: number }
export interface Job {
  jobId: string;
  status: JobStatus;
  prompt: string;
  durationSec: 5 | 10 | 15;
  credits: number;
  quality: Quality;
  seed?: number;
  aspectRatio?: AspectRatio;
  negativePrompt?: string;
  shots?: { prompt: string }[];
  parentJobId?: string;
  lineage?: Lineage;
  children: { jobId: string; lineage: Lineage; status: JobStatus; createdAt: string }[];
  createdAt: string;
  updatedAt: string;
  progress?: JobProgress;
  video?: { url: string; urlExpiresAt: string; width: number; height: number; fps: number; frames: number; durationSec: number; model?: string };
  posterUrl?: string;
  previewUrl?: string;
  contentCredentials?: boolean;
  expiresAt?: string;
  error?: { code: string; message: string };
  history: { status: JobStatus; at: string }[];
  queuePosition?: number;
  etaSeconds?: number;
}
export type WebhookEvent = "job.queued" | "job.running" | "job.succeeded" | "job.failed" | "job.canceled" | "job.expired";
export const WEBHOOK_EVENTS: WebhookEvent[] = ["job.queued", "job.running", "job.succeeded", "job.failed", "job.canceled", "job.expired"];
export interface WebhookEndpoint { id: string; url: string; events: WebhookEvent[]; createdAt: string; previousSecretExpiresAt?: string }
export interface WebhookAttempt { at: string; statusCode?: number; latencyMs: number; error?: string }
export interface WebhookDelivery {
  id: string; jobId: string; endpointId?: string; url: string; event: WebhookEvent;
  status: "pending" | "retrying" | "succeeded" | "failed"; attempts: WebhookAttempt[]; nextAttemptAt?: string; createdAt: string; updatedAt: string;
}
export interface PromptTemplate {
  templateId: string; kind: "subject" | "camera" | "lighting" | "style"; audience: "social" | "education" | "gamedev" | "any";
  title: string; prompt: string;
}
export interface LedgerEntry { entryId: string; kind: string; amount: number; balanceAfter: number; createdAt: string; jobId?: string }
export interface Credits { balance: number; entries: LedgerEntry[] }
export interface Plan { planId: string; name: string; monthlyCredits: number; priceMinor: number; currency: string }
export interface Plans { plans: Plan[]; extraCreditPriceMinor: number; currency: string }
export interface Payment {
  paymentId: string; kind: "topup" | "plan"; state: string; amountMinor: number; currency: string; credits: number;
  planId?: string; link?: string; failureReason?: string; createdAt: string;
}
export interface Subscription {
  planId: string; planName: string; monthlyCredits: number; status: "pending" | "active" | "lapsed"; renewWith: string;
  currentPeriodEnd?: string; renewsAt?: string; renewal?: Payment;
}
export interface Account { userId: string; balance: number; subscription?: Subscription; payments: Payment[] }
export interface Checkout { link: string; amountMinor: number; currency: string; credits: number }
export interface AdminJob {
  jobId: string; userId: string; status: JobStatus; promptPreview: string; durationSec: number; credits: number;
  createdAt: string; finishedAt?: string; gpuSeconds?: number; costUsd?: number; error?: { code: string; message: string };
  traceId?: string; model?: string;
}
export interface AdminUser {
  userId: string; balance: number; activeJobs: number; createdAt: string; planId?: string; planName?: string;
  subscriptionStatus?: string; renewsAt?: string;
}
export interface SpendFigures {
  jobsDone: number; jobsFailed: number; jobsRejected: number; jobsCanceled: number; creditsBurned: number; gpuSeconds: number;
  gpuCostUsd: number; creditRevenueMinor: number; paymentsMinor: number; marginUsd: number;
}
export interface DailyStats {
  days: (SpendFigures & { day: string })[]; totals: SpendFigures; currency: string; revenuePerCreditMinor: number;
  usdPerBillingUnit: number; gpuPricePerSecondUsd: number; truncated: boolean;
}

export interface PaymentIssue {
  paymentId: string; userId: string; kind: string; detail: string; amountMinor: number; currency: string; credits: number;
  entryId?: string; createdAt: string; resolvedAt?: string; resolution?: string;
}
export interface TickFailure { step: string; recordId: string; error: string; attempts: number; firstAt: string; lastAt: string }
export interface OperatorQueue { paymentIssues: PaymentIssue[]; tickFailures: TickFailure[] }
export interface MetricTarget {
  key: string; label: string; value?: number; unit: "s" | "ratio" | "count"; target: number;
  direction: "at_most" | "at_least"; ok?: boolean;
}
export interface GenerationTimes {
  durationSec: number; quality: string; jobs: number; runP50S?: number; runP95S?: number; totalP50S?: number;
  totalP95S?: number; targetP50S: number; targetP95S: number; ok?: boolean;
}
export interface GpuFigures {
  gpuType: string; jobs: number; clips: number; gpuSeconds: number; costUsd: number; pricePerSecondUsd: number;
  runP50S?: number; runP95S?: number; costPerClipUsd?: number;
}
export interface PlanMargin {
  planId: string; name: string; credits: number; revenueUsd: number; costUsd: number; markup?: number; margin?: number;
  targetMarkup?: number; ok?: boolean;
}
export interface RetentionCohort { weekStart: string; users: number; weeks: { week: number; retained: number; rate?: number }[] }
export interface MetricsDay {
  day: string; done: number; failed: number; successRate?: number; runP50S?: number; runP95S?: number; totalP50S?: number;
  totalP95S?: number;
}
export interface MetricsReport {
  start: string; end: string; days: number; targets: MetricTarget[]; generation: GenerationTimes[]; byGpu: GpuFigures[];
  byDuration: { durationSec: number; clips: number; gpuSecondsPerClip?: number; costPerClipUsd?: number }[];
  success: { done: number; failed: number; canceled: number; rejected: number; rate?: number; failureCodes: { code: string; count: number }[] };
  plans: PlanMargin[]; coldStarts: { jobs: number; cold: number; setupSTotal: number; p50S?: number; p95S?: number };
  refunds: number; refundedCredits: number; queues: { deadLetters: number; operatorQueue?: number; tickFailures: number };
  retention: RetentionCohort[]; daily: MetricsDay[]; usdPerBillingUnit: number; documentsRead: number;
}

export interface ApiKey { keyId: string; name: string; prefix: string; createdAt: string; lastUsedAt?: string; revokedAt?: string }

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public field?: string) {
    super(message);
  }
}

export class Api {
  constructor(private base: string, private session: Session) {}

  private async call<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = { ...extra, Authorization: `Bearer ${await this.session.token()}` };
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(this.base + path, { method, headers, body: payload });
    } catch {
      throw new ApiError(0, "network", "Cannot reach CineWeave. Check your connection and try again.");
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new ApiError(response.status, error.code ?? "http_" + response.status, error.message ?? response.statusText, error.field);
    }
    return data as T;
  }

  /** The raw streamed answer of ``path`` (server-sent events), resumed after ``lastEventId``. */
  async stream(path: string, lastEventId: string, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { Accept: "text/event-stream", Authorization: `Bearer ${await this.session.token()}` };
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    return fetch(this.base + path, { headers, signal });
  }

  apiKeys() {
    return this.call<{ keys: ApiKey[] }>("GET", "/keys");
  }
  createApiKey(name: string) {
    return this.call<ApiKey & { key: string }>("POST", "/keys", { name });
  }
  revokeApiKey(keyId: string) {
    return this.call<ApiKey>("DELETE", `/keys/${keyId}`);
  }
  webhookSecret() {
    return this.call<{ secret: string }>("GET", "/webhooks/secret");
  }
  webhookEndpoints() {
    return this.call<{ endpoints: WebhookEndpoint[] }>("GET", "/webhooks/endpoints");
  }
  createWebhookEndpoint(body: { url: string; events: WebhookEvent[] }) {
    return this.call<WebhookEndpoint & { secret: string }>("POST", "/webhooks/endpoints", body);
  }
  deleteWebhookEndpoint(id: string) {
    return this.call<WebhookEndpoint>("DELETE", `/webhooks/endpoints/${encodeURIComponent(id)}`);
  }
  rotateWebhookSecret(id: string) {
    return this.call<WebhookEndpoint & { secret: string }>("POST", `/webhooks/endpoints/${encodeURIComponent(id)}/rotate`, {});
  }
  webhookDeliveries(limit = 20) {
    return this.call<{ deliveries: WebhookDelivery[]; nextCursor?: string }>("GET", `/webhooks/deliveries?limit=${limit}`);
  }
  redeliverWebhook(id: string) {
    return this.call<WebhookDelivery>("POST", `/webhooks/deliveries/${encodeURIComponent(id)}/redeliver`);
  }

  jobs(limit = 20, cursor?: string) {
    return this.call<{ jobs: Job[]; nextCursor?: string }>("GET", `/jobs?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
  }
  job(jobId: string) {
    return this.call<Job>("GET", `/jobs/${encodeURIComponent(jobId)}`);
  }
  /** ``idempotencyKey``: one per attempt, so a double click or a retried request makes one job. */
  create(body: FormData | CreateBody, idempotencyKey: string) {
    return this.call<{ jobId: string; status: JobStatus }>("POST", "/jobs/create", body, { "Idempotency-Key": idempotencyKey });
  }
  extend(jobId: string, body: { durationSec: number; prompt?: string }, idempotencyKey: string) {
    return this.call<{ jobId: string; status: JobStatus }>("POST", `/jobs/${encodeURIComponent(jobId)}/extend`, body,
      { "Idempotency-Key": idempotencyKey });
  }
  remix(jobId: string, body: { prompt: string; negativePrompt?: string; seed?: number }, idempotencyKey: string) {
    return this.call<{ jobId: string; status: JobStatus }>("POST", `/jobs/${encodeURIComponent(jobId)}/remix`, body,
      { "Idempotency-Key": idempotencyKey });
  }
  cancel(jobId: string) {
    return this.call<Job>("POST", `/jobs/${encodeURIComponent(jobId)}/cancel`);
  }
  credits() {
    return this.call<Credits>("GET", "/credits");
  }
  templates() {
    return this.call<{ templates: PromptTemplate[] }>("GET", "/templates");
  }
  plans() {
    return this.call<Plans>("GET", "/plans");
  }
  account() {
    return this.call<Account>("GET", "/account");
  }
  subscribe(body: { planId: string; payer?: Payer }) {
    return this.call<Checkout>("POST", "/subscribe", body);
  }
  topup(body: { credits: number; payer?: Payer }) {
    return this.call<Checkout>("POST", "/topup", body);
  }
  adminJobs(filters: Record<string, string>) {
    const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
    return this.call<{ jobs: AdminJob[]; nextCursor?: string }>("GET", `/admin/jobs${query ? "?" + query : ""}`);
  }
  adminUsers(filters: Record<string, string>) {
    const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
    return this.call<{ users: AdminUser[]; nextCursor?: string }>("GET", `/admin/users${query ? "?" + query : ""}`);
  }
  dailyStats(days: number) {
    return this.call<DailyStats>("GET", `/admin/stats/daily?days=${days}`);
  }
  operatorQueue() {
    return this.call<OperatorQueue>("GET", "/admin/queue");
  }
  resolvePaymentIssue(paymentId: string, note: string) {
    return this.call<PaymentIssue>("POST", `/admin/queue/payments/${encodeURIComponent(paymentId)}/resolve`, { note });
  }
  metrics(days: number) {
    return this.call<MetricsReport>("GET", `/admin/metrics?days=${days}`);
  }
}

export interface Payer { name: string; email?: string }
