import { TakoError } from "../errors.ts";

/** One segment of a route pattern. */
export type Segment =
  | { readonly kind: "static"; readonly value: string }
  | { readonly kind: "param"; readonly name: string }
  | { readonly kind: "catchAll"; readonly name: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fail(pattern: string, why: string): never {
  throw new TakoError("TAKO_ERR_ROUTE_PATTERN", `invalid route pattern "${pattern}": ${why}`);
}

/**
 * Parses `"/users/{id}/files/{*rest}"` into segments. `"/"` has no segments; a trailing
 * slash gives a final empty static segment, so `"/a"` and `"/a/"` are different routes.
 */
export function parsePattern(pattern: string): Segment[] {
  if (typeof pattern !== "string" || !pattern.startsWith("/")) fail(String(pattern), 'it must start with "/"');
  if (pattern === "/") return [];
  const parts = pattern.slice(1).split("/");
  const seen = new Set<string>();
  const segments: Segment[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.startsWith("{") && part.endsWith("}")) {
      const catchAll = part[1] === "*";
      const name = part.slice(catchAll ? 2 : 1, -1);
      if (name === "") fail(pattern, `empty parameter name in "${part}"`);
      if (!NAME.test(name)) fail(pattern, `parameter name "${name}" must match ${NAME.source}`);
      if (name === "__proto__") fail(pattern, 'parameter name "__proto__" is reserved');
      if (seen.has(name)) fail(pattern, `duplicate parameter name "${name}"`);
      seen.add(name);
      if (catchAll && i !== parts.length - 1) fail(pattern, `catch-all "{*${name}}" must be the last segment`);
      segments.push(catchAll ? { kind: "catchAll", name } : { kind: "param", name });
    } else {
      if (part.includes("{") || part.includes("}")) {
        fail(pattern, `"${part}" mixes text and a parameter; a parameter must be a whole segment`);
      }
      segments.push({ kind: "static", value: part });
    }
  }
  return segments;
}

/** Joins a nest/scope prefix and a child pattern: `("/api", "/users")` → `"/api/users"`. */
export function joinPrefix(prefix: string, pattern: string): string {
  if (!prefix.startsWith("/")) fail(prefix, 'a prefix must start with "/"');
  if (prefix.includes("{")) fail(prefix, "a prefix cannot contain parameters");
  const base = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (pattern === "/") return base === "" ? "/" : base;
  return base + pattern;
}

/** The pattern with parameter names erased, so `/a/{x}` and `/a/{y}` compare equal. */
export function patternShape(segments: readonly Segment[]): string {
  let s = "";
  for (const seg of segments) s += `/${seg.kind === "static" ? seg.value : seg.kind === "param" ? "{}" : "{*}"}`;
  return s === "" ? "/" : s;
}

type Trim<S extends string> = S extends `*${infer R}` ? R : S;

/** The parameter names of a pattern: `ParamNames<"/u/{id}/{*rest}">` is `"id" | "rest"`. */
export type ParamNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Trim<Name> | ParamNames<Rest> : never;

/** The `req.params` object of a pattern: `{ id: string }` for `"/users/{id}"`. */
export type Params<P extends string = string> = string extends P ? Record<string, string> : { readonly [K in ParamNames<P>]: string };
