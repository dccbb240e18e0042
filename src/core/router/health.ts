import { TakoError } from "../errors.ts";
import { Reply } from "../response.ts";

/** A readiness check: ready when it returns (or resolves to) `true`. */
export type HealthCheck = () => boolean | Promise<boolean>;

/** Options of `router.health()`. */
export interface HealthOptions {
  /** Liveness path: 200 while the process serves requests at all. Default `"/livez"`. */
  readonly live?: string;
  /** Readiness path: 200 while ready, 503 while a server of this router drains or a check fails. Default `"/readyz"`. */
  readonly ready?: string;
  /** Named readiness checks, run in parallel on each readiness request. Default none. */
  readonly checks?: Readonly<Record<string, HealthCheck>>;
  /** A check that has not answered within this many milliseconds fails (`"timeout"`). Default 2,000. */
  readonly checkTimeout?: number;
  /** `Retry-After` seconds on a 503 from the readiness path. Default 5. */
  readonly retryAfter?: number;
}

/** A check's outcome in the readiness answer. */
export type CheckOutcome = "ok" | "fail" | "timeout" | "error";

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };

/** The validated options, defaults filled in. */
export interface ResolvedHealth {
  readonly live: string;
  readonly ready: string;
  readonly checks: readonly (readonly [string, HealthCheck])[];
  readonly checkTimeout: number;
  readonly retryAfter: number;
}

/** Validates `options`, naming the field at fault (`TAKO_ERR_CONFIG`). */
export function resolveHealth(options: HealthOptions = {}): ResolvedHealth {
  const bad = (field: string, why: string): never => {
    throw new TakoError("TAKO_ERR_CONFIG", `router.health(): "${field}" must be ${why}`);
  };
  const live = options.live ?? "/livez";
  const ready = options.ready ?? "/readyz";
  if (typeof live !== "string" || !live.startsWith("/")) bad("live", "a path starting with /");
  if (typeof ready !== "string" || !ready.startsWith("/")) bad("ready", "a path starting with /");
  if (live === ready) bad("ready", "a different path from live");
  const checks = Object.entries(options.checks ?? {});
  for (const [name, check] of checks) if (typeof check !== "function") bad(`checks.${name}`, "a function returning a boolean or a promise of one");
  const checkTimeout = options.checkTimeout ?? 2_000;
  if (!Number.isInteger(checkTimeout) || checkTimeout < 1) bad("checkTimeout", "a positive integer number of milliseconds");
  const retryAfter = options.retryAfter ?? 5;
  if (!Number.isInteger(retryAfter) || retryAfter < 0) bad("retryAfter", "a non-negative integer number of seconds");
  return { live, ready, checks, checkTimeout, retryAfter };
}

/** Liveness: the process answers. */
export function liveReply(): Reply {
  return new Reply('{"status":"live"}', 200, JSON_HEADERS);
}

/** Runs one check within `timeout` ms. */
async function runCheck(check: HealthCheck, timeout: number): Promise<CheckOutcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<CheckOutcome>((resolve) => (timer = setTimeout(() => resolve("timeout"), timeout)));
  try {
    const outcome = Promise.resolve()
      .then(check)
      .then(
        (ok): CheckOutcome => (ok === true ? "ok" : "fail"),
        (): CheckOutcome => "error",
      );
    return await Promise.race([outcome, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Readiness: 503 with `Retry-After` while a server of the router drains (from `trigger()`, for
 * the whole `shutdownDelay`: a load balancer polling it takes the instance out of rotation
 * while it still serves) or while a check fails; 200 otherwise. The body names each check's outcome.
 */
export async function readyReply(health: ResolvedHealth, draining: boolean): Promise<Reply> {
  const unavailable = { ...JSON_HEADERS, "retry-after": String(health.retryAfter) };
  if (draining) return new Reply('{"status":"draining"}', 503, unavailable);
  const outcomes = await Promise.all(health.checks.map(([, check]) => runCheck(check, health.checkTimeout)));
  const checks: Record<string, CheckOutcome> = {};
  health.checks.forEach(([name], i) => {
    checks[name] = outcomes[i]!;
  });
  const ok = outcomes.every((o) => o === "ok");
  return new Reply(JSON.stringify({ status: ok ? "ready" : "failing", checks }), ok ? 200 : 503, ok ? JSON_HEADERS : unavailable);
}
