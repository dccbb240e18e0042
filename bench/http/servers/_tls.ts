// The certificate every TLS bench server presents: the demo's development certificate
// (examples/demo/dev-cert.ts: a local CA and a localhost/127.0.0.1 certificate it signed, made once
// with the openssl CLI and cached), so the harness checks the answers against that CA.
import { readFileSync } from "node:fs";
import { devCert } from "../../../examples/demo/dev-cert.ts";

/** Paths of the CA, the certificate and its key (PEM files). */
export const TLS = devCert();

/** The certificate and its key as PEM text, the form Bun.serve, Deno.serve and node:tls take. */
export function pem(): { cert: string; key: string } {
  return { cert: readFileSync(TLS.cert, "utf8"), key: readFileSync(TLS.key, "utf8") };
}
