import { readFileSync } from "node:fs";
import type { ServerConfig } from "../../core/config.ts";

/**
 * The process's soft limit on open descriptors (`RLIMIT_NOFILE`), read from
 * `/proc/self/limits` (Linux; Node, Bun and Deno all raise the soft limit to the hard one at
 * start). `null` where it cannot be read (another OS, or no permission) or is unlimited.
 */
export function descriptorLimit(read: () => string = () => readFileSync("/proc/self/limits", "utf8")): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const line = /^Max open files\s+(\S+)/m.exec(text);
  if (line === null) return null;
  const soft = Number(line[1]);
  return Number.isSafeInteger(soft) && soft > 0 ? soft : null;
}

/**
 * The connection cap when `maxConnections` is `null`: the descriptor limit less a reserve for
 * everything else the process opens (listeners, files, the runtime's own pipes and signal
 * handles, outgoing connections): an eighth of the limit, at least 64 and at most 1,024.
 * Connections past it are shed (the oldest idle) or refused with 503 instead of failing
 * accept with EMFILE, which starves every client, and on Deno aborts the process (measured).
 * `null` (no cap) where the limit is unknown.
 */
export function descriptorCap(limit: number | null = descriptorLimit()): number | null {
  if (limit === null) return null;
  const reserve = Math.min(1024, Math.max(64, Math.ceil(limit / 8)));
  return Math.max(1, limit - reserve);
}

let cached: number | null | undefined;

/**
 * The cap in force for `config`: `maxConnections`, or {@link descriptorCap} when it is `null`,
 * divided by `perConnection`, the descriptors each connection holds (two for TLS on a duplicate
 * of a `Deno.listen` connection's descriptor).
 */
export function connectionCap(config: ServerConfig, perConnection = 1): number | null {
  if (config.maxConnections !== null) return config.maxConnections;
  if (cached === undefined) cached = descriptorCap();
  return cached === null ? null : Math.max(1, Math.floor(cached / perConnection));
}
