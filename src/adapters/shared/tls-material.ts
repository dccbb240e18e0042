import { readFileSync, statSync } from "node:fs";
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { TakoError } from "../../core/errors.ts";
import { TlsCert, type CertResolver } from "../../core/tls.ts";

/**
 * Checked certificate material, in the PEM form every runtime's TLS stack takes. node:fs and
 * node:crypto exist on Node, Bun and Deno, so this module serves all three engines and the
 * builder (which checks material when the server is built).
 */
export interface LoadedCert {
  /** The chain, leaf first, as PEM. */
  readonly certPem: string;
  /** The private key as PKCS#8 PEM. */
  readonly keyPem: string;
  /** The leaf certificate. */
  readonly leaf: X509Certificate;
  /** Where it came from, for messages. */
  readonly origin: string;
}

const fail = (message: string, cause?: unknown): never => {
  throw new TakoError("TAKO_ERR_TLS", message, cause === undefined ? undefined : { cause });
};
const why = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    return fail(`cannot read the ${what} file "${path}": ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : why(error)}`, error);
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function parseChain(pem: string, where: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT);
  if (blocks === null) return fail(`${where} contains no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      return fail(`${where}: certificate ${i + 1} cannot be parsed: ${why(error)}`, error);
    }
  });
}

function parseKey(input: string | Uint8Array, where: string): KeyObject {
  if (typeof input === "string") {
    try {
      return createPrivateKey(input);
    } catch (error) {
      return fail(`${where} contains no usable PEM private key: ${why(error)}`, error);
    }
  }
  for (const type of ["pkcs8", "pkcs1", "sec1"] as const) {
    try {
      return createPrivateKey({ key: input as Buffer, format: "der", type });
    } catch {
      // try the next encoding
    }
  }
  return fail(`${where}: the DER private key is neither PKCS#8, PKCS#1 nor SEC1`);
}

function assemble(chain: X509Certificate[], key: KeyObject, certWhere: string, keyWhere: string, origin: string): LoadedCert {
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) fail(`the private key in ${keyWhere} does not match the certificate in ${certWhere}`);
  return {
    certPem: chain.map((c) => c.toString()).join(""),
    keyPem: key.export({ type: "pkcs8", format: "pem" }) as string,
    leaf,
    origin,
  };
}

const cache = new WeakMap<TlsCert, LoadedCert>();

/**
 * Reads and checks a static certificate (a missing file, unparsable PEM or DER, or a key that
 * does not match the certificate throws a `TakoError` `TAKO_ERR_TLS` naming the file). The
 * result is kept per `TlsCert` object, so a resolver returning the same object reads it once.
 */
export function loadCert(cert: TlsCert): LoadedCert {
  const hit = cache.get(cert);
  if (hit !== undefined) return hit;
  const s = cert.source;
  let loaded: LoadedCert;
  if (s.kind === "pemPaths") {
    const certText = readText(s.certPath, "certificate");
    const keyText = readText(s.keyPath, "private key");
    loaded = assemble(parseChain(certText, `"${s.certPath}"`), parseKey(keyText, `"${s.keyPath}"`), `"${s.certPath}"`, `"${s.keyPath}"`, s.certPath);
  } else if (s.kind === "pem") {
    loaded = assemble(parseChain(s.certPem, "the certificate PEM"), parseKey(s.keyPem, "the key PEM"), "the certificate PEM", "the key PEM", "PEM in memory");
  } else if (s.kind === "der") {
    const chain = s.certs.map((der, i) => {
      try {
        return new X509Certificate(der as Buffer);
      } catch (error) {
        return fail(`TlsCert.der: certificate ${i + 1} cannot be parsed as DER: ${why(error)}`, error);
      }
    });
    loaded = assemble(chain, parseKey(s.key, "TlsCert.der"), "TlsCert.der (certificate 1)", "TlsCert.der (key)", "DER in memory");
  } else {
    return fail("a resolver is not a static certificate");
  }
  cache.set(cert, loaded);
  return loaded;
}

/** Checks a TlsCert when the server is built: static material now, every entry of an SNI table. */
export function checkTlsCert(cert: TlsCert): void {
  if (!(cert instanceof TlsCert)) fail("Server.builder().tls() expects a TlsCert (TlsCert.pemPaths, TlsCert.der, TlsCert.pem or TlsCert.resolver)");
  const s = cert.source;
  if (s.kind !== "resolver") return void loadCert(cert);
  const entries = (s.resolver as { entries?: () => TlsCert[] }).entries;
  if (typeof entries === "function") for (const entry of entries.call(s.resolver)) loadCert(entry);
}

/** Options of {@link ReloadableResolver.watch}. */
export interface WatchOptions {
  /** How often the files are checked for a change. Default 1000 ms. */
  readonly intervalMs?: number;
  /** Called after a successful reload. */
  readonly onReload?: () => void;
  /** Called when changed files do not load (the old certificate stays). Default: logged to stderr. */
  readonly onError?: (error: unknown) => void;
}

/**
 * A certificate that can be replaced while the server runs (ACME renewals, cert-manager). Every
 * handshake reads the current one; a reload swaps it atomically for the next handshake, while
 * established connections keep theirs. A reload with bad material throws and keeps the old one.
 *
 * ```ts
 * const certs = new ReloadableResolver(TlsCert.pemPaths("cert.pem", "key.pem"));
 * Server.builder().tls(TlsCert.resolver(certs));
 * certs.watch("cert.pem", "key.pem");       // or certs.reloadFromPaths(…) on your own signal
 * ```
 */
export class ReloadableResolver implements CertResolver {
  #current: TlsCert;

  /** Starts with `initial`, checked now. */
  constructor(initial: TlsCert) {
    if (!(initial instanceof TlsCert) || initial.source.kind === "resolver") throw new TypeError("ReloadableResolver expects a static TlsCert");
    loadCert(initial);
    this.#current = initial;
  }

  /** The certificate the next handshake gets. */
  get current(): TlsCert {
    return this.#current;
  }

  resolve(): TlsCert {
    return this.#current;
  }

  /** Replaces the certificate; throws (keeping the old one) if `cert` does not load. */
  reload(cert: TlsCert): void {
    if (!(cert instanceof TlsCert) || cert.source.kind === "resolver") throw new TypeError("ReloadableResolver.reload expects a static TlsCert");
    loadCert(cert);
    this.#current = cert;
  }

  /** Re-reads PEM files (a new read every call). */
  reloadFromPaths(certPath: string, keyPath: string): void {
    this.reload(TlsCert.pemPaths(certPath, keyPath));
  }

  /** Replaces the certificate with PEM text. */
  reloadFromPem(certPem: string, keyPem: string): void {
    this.reload(TlsCert.pem(certPem, keyPem));
  }

  /**
   * Polls the two files and reloads when either changes (size or modification time), once both
   * have been stable for one interval — a renewal writes two files, not at the same instant.
   * Returns a function that stops watching.
   */
  watch(certPath: string, keyPath: string, options: WatchOptions = {}): () => void {
    const interval = options.intervalMs ?? 1000;
    const onError = options.onError ?? ((error: unknown) => console.error(`tako: certificate reload from "${certPath}" failed, keeping the current one: ${why(error)}`));
    const stamp = (): string => {
      try {
        return [certPath, keyPath]
          .map((p) => statSync(p))
          .map((s) => `${s.size}:${s.mtimeMs}`)
          .join("|");
      } catch {
        return "missing";
      }
    };
    let loaded = stamp();
    let seen = loaded;
    const timer = setInterval(() => {
      const now = stamp();
      if (now !== seen) return void (seen = now); // still changing: wait until stable
      if (now === loaded || now === "missing") return;
      loaded = now;
      try {
        this.reloadFromPaths(certPath, keyPath);
        options.onReload?.();
      } catch (error) {
        onError(error);
      }
    }, interval);
    (timer as { unref?: () => void }).unref?.();
    return () => clearInterval(timer);
  }
}

/**
 * tako's TLS policy on every runtime: TLS 1.2 and 1.3 only, and only forward-secret AEAD suites
 * (ECDHE with AES-GCM or ChaCha20-Poly1305 on 1.2; the 1.3 suites, which all are), server order.
 * No CBC suites (LUCKY13), no static-RSA key exchange.
 */
export const TLS_POLICY = Object.freeze({
  minVersion: "TLSv1.2" as const,
  ciphers: [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
  ].join(":"),
  honorCipherOrder: true,
});
