/**
 * HTTP request methods a route can be registered for.
 *
 * A plain object of string constants rather than a TypeScript `enum`, so the source runs
 * unbuilt on Node.js, Bun and Deno (enums are TypeScript-only emit).
 */
export const Method = {
  GET: "GET",
  HEAD: "HEAD",
  POST: "POST",
  PUT: "PUT",
  PATCH: "PATCH",
  DELETE: "DELETE",
  OPTIONS: "OPTIONS",
  CONNECT: "CONNECT",
  TRACE: "TRACE",
} as const;

/** One of the methods in {@link Method}. */
export type Method = (typeof Method)[keyof typeof Method];

/** Every method the router knows, in the order `Allow` headers list them. */
export const METHODS: readonly Method[] = Object.values(Method);

const known = new Set<string>(METHODS);

/** True when `name` is a method the router implements (RFC 9110 §9.1: others get 501). */
export function isKnownMethod(name: string): name is Method {
  return known.has(name);
}
