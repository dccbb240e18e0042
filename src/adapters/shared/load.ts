import { performance } from "node:perf_hooks";
import type { ServerConfig } from "../../core/config.ts";
import { TakoError } from "../../core/errors.ts";
import type { LoadGauge } from "../../core/router/shed.ts";
import type { Runtime } from "../engine.ts";

/** How often the event loop delay is sampled: how late a timer of this period fires. */
export const LOAD_SAMPLE_MS = 20;
/** The measured delay halves every this many milliseconds unless a later tick is later still. */
export const LOAD_HALF_LIFE_MS = 100;
/** The window event loop utilization is measured over (every this many samples). */
const UTILIZATION_SAMPLES = 250 / LOAD_SAMPLE_MS;

/**
 * Measures how loaded the event loop is, for `maxEventLoopDelay` and `maxEventLoopUtilization`.
 * The delay is how late a {@link LOAD_SAMPLE_MS} timer fires, kept as a peak that halves every
 * {@link LOAD_HALF_LIFE_MS} unless a later tick is later still: a handler that blocks for 600 ms
 * makes the next tick 580 ms late, so the requests that queued meanwhile are shed, and serving
 * resumes about 250 ms after the loop keeps up again with a 100 ms limit (a stall sheds for a
 * time that grows with how long it was; a loop that stays late keeps shedding). The same timer
 * on every runtime (Deno's
 * `monitorEventLoopDelay` reports no delay at all: a 200 ms block read as 0.05 ms, measured);
 * utilization is Node's `performance.eventLoopUtilization()`, refused on Bun and Deno, where it
 * stays 0.
 */
export class LoadMonitor implements LoadGauge {
  #overloaded = false;
  readonly #maxDelay: number;
  readonly #maxUtilization: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #last = performance.now();
  #delay = 0;
  #samples = 0;
  #utilization: ReturnType<typeof performance.eventLoopUtilization> | null = null;
  #overUtilized = false;

  private constructor(maxDelay: number | null, maxUtilization: number | null) {
    this.#maxDelay = maxDelay ?? Number.POSITIVE_INFINITY;
    this.#maxUtilization = maxUtilization ?? Number.POSITIVE_INFINITY;
    if (maxUtilization !== null) this.#utilization = performance.eventLoopUtilization();
    this.#timer = setInterval(() => this.#tick(), LOAD_SAMPLE_MS);
    this.#timer.unref?.();
  }

  /**
   * The monitor `config` asks for, or `null` when load shedding is off. Throws
   * `TAKO_ERR_UNSUPPORTED` for `maxEventLoopUtilization` on a runtime that does not measure it.
   */
  static of(config: ServerConfig, runtime: Runtime): LoadMonitor | null {
    const { maxEventLoopDelay, maxEventLoopUtilization } = config;
    if (maxEventLoopDelay === null && maxEventLoopUtilization === null) return null;
    if (maxEventLoopUtilization !== null && runtime !== "node") {
      throw new TakoError(
        "TAKO_ERR_UNSUPPORTED",
        `"maxEventLoopUtilization" is not supported on ${runtime === "bun" ? "Bun" : "Deno"}: performance.eventLoopUtilization() reports no utilization there; use maxEventLoopDelay`,
      );
    }
    return new LoadMonitor(maxEventLoopDelay, maxEventLoopUtilization);
  }

  #tick(): void {
    const now = performance.now();
    const elapsed = now - this.#last;
    this.#last = now;
    this.#delay = Math.max(elapsed - LOAD_SAMPLE_MS, this.#delay * 0.5 ** (elapsed / LOAD_HALF_LIFE_MS));
    if (this.#utilization !== null && ++this.#samples >= UTILIZATION_SAMPLES) {
      this.#samples = 0;
      const since = performance.eventLoopUtilization(this.#utilization);
      this.#utilization = performance.eventLoopUtilization();
      this.#overUtilized = since.utilization > this.#maxUtilization;
    }
    this.#overloaded = this.#delay > this.#maxDelay || this.#overUtilized;
  }

  /**
   * Whether to shed now: the last tick's verdict, or a tick overdue by more than the limit (the
   * loop is late this very moment; on Bun, requests queued during a stall are read before the
   * late timer runs, measured).
   */
  get overloaded(): boolean {
    return this.#overloaded || performance.now() - this.#last - LOAD_SAMPLE_MS > this.#maxDelay;
  }

  /** Stops sampling (the server is closed). */
  stop(): void {
    clearInterval(this.#timer);
    this.#overloaded = false;
    this.#last = Number.POSITIVE_INFINITY;
  }
}
