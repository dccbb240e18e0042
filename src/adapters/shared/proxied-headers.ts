import type { ProxyHeader } from "../../core/proxy-protocol/index.ts";

// How a proxied request's forwarding headers read, on every engine: the PROXY header names the
// client, so what a client wrote in `Forwarded` / `X-Forwarded-*` is not believed.

const FORWARDED = "forwarded";

/** True for the headers a proxied request must not take from the client. */
export function isForwardingHeader(lowerName: string): boolean {
  return lowerName === FORWARDED || lowerName.startsWith("x-forwarded-");
}

/** `Forwarded: for=…` (RFC 7239) for the client the PROXY header names; `null` without an address (LOCAL, UNSPEC). */
export function forwardedFor(header: ProxyHeader): string | null {
  const address = header.command === "PROXY" ? header.sourceAddress : null;
  if (address === null || header.family === "UNIX") return null;
  return address.includes(":") ? `for="[${address}]"` : `for=${address}`;
}

/**
 * A request header as a handler sees it on a proxied connection: `Forwarded` is tako's (from
 * the PROXY header) and `X-Forwarded-*` are dropped, so a client cannot spoof its address.
 * `undefined` for every other name (read it as usual).
 */
export function proxiedHeader(lowerName: string, header: ProxyHeader): string | null | undefined {
  if (lowerName === FORWARDED) return forwardedFor(header);
  return lowerName.startsWith("x-forwarded-") ? null : undefined;
}

/** Rewrites a proxied request's `Headers` as {@link proxiedHeader} says. */
export function proxiedHeaders(headers: Headers, header: ProxyHeader): Headers {
  const drop: string[] = [];
  headers.forEach((_value, name) => {
    if (isForwardingHeader(name)) drop.push(name);
  });
  for (const name of drop) headers.delete(name);
  const forwarded = forwardedFor(header);
  if (forwarded !== null) headers.set(FORWARDED, forwarded);
  return headers;
}

/** The client a PROXY header names (`PROXY` command, an IP address); `null` otherwise (LOCAL, UNSPEC, UNIX). */
export function proxiedClient(header: ProxyHeader | null): { readonly address: string; readonly port: number } | null {
  if (header === null || header.command !== "PROXY" || header.sourceAddress === null || header.family === "UNIX") return null;
  return { address: header.sourceAddress, port: header.sourcePort ?? 0 };
}
