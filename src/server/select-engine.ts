import type { Engine } from "../adapters/engine.ts";

/** The runtime this code runs on. */
export function detectRuntime(): Engine["runtime"] {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

let engine: Promise<Engine> | null = null;

/** Loads the engine for the current runtime once; the others are never imported. */
export function loadEngine(): Promise<Engine> {
  if (engine === null) {
    const runtime = detectRuntime();
    engine =
      runtime === "bun"
        ? import("../adapters/bun/bun-engine.ts").then((m) => m.bunEngine)
        : runtime === "deno"
          ? import("../adapters/deno/deno-engine.ts").then((m) => m.denoEngine)
          : import("../adapters/node/node-engine.ts").then((m) => m.nodeEngine);
  }
  return engine;
}
