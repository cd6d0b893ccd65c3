/**
 * Prometheus text exposition (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * Labels are route, status and model only: nothing derived from content, keys or ids.
 * The model name comes from the caller, so it is labelled only when the backend serves
 * it (setKnownModels, from listModels) and is at most MAX_MODEL_LABEL chars; anything
 * else is model="other". Without that, callers could mint unbounded series (memory, and
 * a scraper's storage) with made-up model names.
 */
const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

export interface Metrics {
  requestStarted(): void;
  requestFinished(route: string, status: number, seconds: number): void;
  tokens(model: string, prompt: number, completion: number): void;
  /** The model ids the backend serves: the only values the model label may take. */
  setKnownModels(ids: Iterable<string>): void;
  readonly inFlight: number;
  render(): string;
}

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export const MAX_MODEL_LABEL = 128;

const esc = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function createMetrics(): Metrics {
  const requests = new Map<string, number>();
  const latency = new Map<string, Histogram>();
  const tokens = new Map<string, number>();
  let inFlight = 0;
  let known: ReadonlySet<string> = new Set();
  const modelLabel = (m: string): string => (m.length <= MAX_MODEL_LABEL && known.has(m) ? m : "other");
  const inc = (m: Map<string, number>, k: string, by: number): void => void m.set(k, (m.get(k) ?? 0) + by);
  return {
    get inFlight() {
      return inFlight;
    },
    requestStarted() {
      inFlight++;
    },
    requestFinished(route, status, seconds) {
      inFlight--;
      inc(requests, `route="${esc(route)}",status="${status}"`, 1);
      let h = latency.get(route);
      if (!h) latency.set(route, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
      BUCKETS.forEach((b, i) => {
        if (seconds <= b) h.counts[i] = (h.counts[i] ?? 0) + 1;
      });
      h.sum += seconds;
      h.count++;
    },
    tokens(model, prompt, completion) {
      const label = esc(modelLabel(model));
      inc(tokens, `model="${label}",type="prompt"`, prompt);
      inc(tokens, `model="${label}",type="completion"`, completion);
    },
    setKnownModels(ids) {
      known = new Set(ids);
    },
    render() {
      const lines: string[] = [];
      lines.push("# HELP cloister_requests_total HTTP requests by route and status.", "# TYPE cloister_requests_total counter");
      for (const [k, v] of requests) lines.push(`cloister_requests_total{${k}} ${v}`);
      lines.push("# HELP cloister_request_duration_seconds Time from request to last byte.", "# TYPE cloister_request_duration_seconds histogram");
      for (const [route, h] of latency) {
        const r = esc(route);
        BUCKETS.forEach((b, i) => lines.push(`cloister_request_duration_seconds_bucket{route="${r}",le="${b}"} ${h.counts[i] ?? 0}`));
        lines.push(`cloister_request_duration_seconds_bucket{route="${r}",le="+Inf"} ${h.count}`);
        lines.push(`cloister_request_duration_seconds_sum{route="${r}"} ${h.sum}`, `cloister_request_duration_seconds_count{route="${r}"} ${h.count}`);
      }
      lines.push("# HELP cloister_tokens_total Tokens processed by model and type.", "# TYPE cloister_tokens_total counter");
      for (const [k, v] of tokens) lines.push(`cloister_tokens_total{${k}} ${v}`);
      lines.push("# HELP cloister_requests_in_flight Requests being served.", "# TYPE cloister_requests_in_flight gauge", `cloister_requests_in_flight ${inFlight}`);
      return `${lines.join("\n")}\n`;
    },
  };
}

/** Bounded route label: known paths by name, everything else "other". */
export function routeLabel(path: string): string {
  if (path.startsWith("/v1/signature/")) return "/v1/signature/:id";
  if (path.startsWith("/v1/models/")) return "/v1/models/:id";
  const known = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/models", "/v1/attestation/report", "/metrics", "/health"];
  return known.includes(path) ? path : "other";
}
