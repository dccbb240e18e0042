/**
 * TLS material descriptors: where a certificate comes from and how clients are authenticated.
 * Runtime-neutral: reading, parsing and checking the material happens in the engine layer, when
 * the server is built (`Server.builder().tls(cert).build()`), never at the first handshake.
 */

/** Where the server certificate comes from. */
export type CertSource =
  | { readonly kind: "pemPaths"; readonly certPath: string; readonly keyPath: string }
  | { readonly kind: "pem"; readonly certPem: string; readonly keyPem: string }
  | { readonly kind: "der"; readonly certs: readonly Uint8Array[]; readonly key: Uint8Array }
  | { readonly kind: "resolver"; readonly resolver: CertResolver };

/**
 * Chooses the certificate for one handshake from the client's SNI name (`null` when the client
 * sent none, e.g. when it connected by IP address). May answer asynchronously. It returns a
 * static {@link TlsCert} (`pemPaths`, `pem` or `der`); the material of each returned object is
 * read and checked once, then reused.
 */
export interface CertResolver {
  resolve(serverName: string | null): TlsCert | Promise<TlsCert>;
}

/** How client certificates are handled (mutual TLS). */
export class ClientAuth {
  /** `"required"`: a handshake without a valid client certificate fails. `"optional"`: a client without one is served, one with an invalid one is rejected. */
  readonly mode: "optional" | "required";
  /** PEM of the CA certificate(s) client certificates must chain to. */
  readonly caPem: string;

  private constructor(mode: "optional" | "required", caPem: string) {
    this.mode = mode;
    this.caPem = caPem;
  }

  /** Clients may present a certificate; when they do, it must chain to `caPem`. */
  static optional(caPem: string): ClientAuth {
    return new ClientAuth("optional", checkPemText(caPem, "ClientAuth.optional"));
  }

  /** Clients must present a certificate that chains to `caPem`. */
  static required(caPem: string): ClientAuth {
    return new ClientAuth("required", checkPemText(caPem, "ClientAuth.required"));
  }
}

function checkPemText(pem: string, where: string): string {
  if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TypeError(`${where}(caPem) expects the CA certificate(s) as PEM text ("-----BEGIN CERTIFICATE-----…")`);
  }
  return pem;
}

/**
 * The server's TLS material: `TlsCert.pemPaths("cert.pem", "key.pem")`, `TlsCert.der(chain, key)`,
 * `TlsCert.pem(certPem, keyPem)` or `TlsCert.resolver(resolver)`, optionally
 * `.withClientAuth(ClientAuth.required(caPem))`.
 */
export class TlsCert {
  readonly source: CertSource;
  /** Mutual TLS; `null`: clients are not asked for a certificate. */
  readonly clientAuth: ClientAuth | null;

  private constructor(source: CertSource, clientAuth: ClientAuth | null) {
    this.source = source;
    this.clientAuth = clientAuth;
  }

  /** PEM files: the certificate chain (leaf first) and its private key, read when the server is built. */
  static pemPaths(certPath: string, keyPath: string): TlsCert {
    if (typeof certPath !== "string" || certPath === "" || typeof keyPath !== "string" || keyPath === "") {
      throw new TypeError("TlsCert.pemPaths(certPath, keyPath) expects two file paths");
    }
    return new TlsCert({ kind: "pemPaths", certPath, keyPath }, null);
  }

  /** PEM text in memory (e.g. from a secret store). */
  static pem(certPem: string, keyPem: string): TlsCert {
    if (typeof certPem !== "string" || typeof keyPem !== "string") throw new TypeError("TlsCert.pem(certPem, keyPem) expects two PEM strings");
    return new TlsCert({ kind: "pem", certPem, keyPem }, null);
  }

  /** DER in memory: the chain leaf first, and the private key (PKCS#8, PKCS#1 or SEC1). Never touches the disk. */
  static der(certs: readonly Uint8Array[], key: Uint8Array): TlsCert {
    if (!Array.isArray(certs) || certs.length === 0 || !certs.every((c) => c instanceof Uint8Array) || !(key instanceof Uint8Array)) {
      throw new TypeError("TlsCert.der(certs, key) expects a non-empty array of DER certificates (leaf first) and a DER key");
    }
    return new TlsCert({ kind: "der", certs: [...certs], key }, null);
  }

  /** A certificate chosen per handshake from the client's SNI name: an {@link SniResolver}, a {@link CertResolver} of your own, or a `ReloadableResolver`. */
  static resolver(resolver: CertResolver | ((serverName: string | null) => TlsCert | Promise<TlsCert>)): TlsCert {
    const r: CertResolver = typeof resolver === "function" ? { resolve: resolver } : resolver;
    if (typeof r?.resolve !== "function") throw new TypeError("TlsCert.resolver() expects a function or an object with resolve(serverName)");
    return new TlsCert({ kind: "resolver", resolver: r }, null);
  }

  /** The same material with client certificates handled as `auth` says. */
  withClientAuth(auth: ClientAuth): TlsCert {
    if (!(auth instanceof ClientAuth)) throw new TypeError("withClientAuth() expects ClientAuth.optional(ca) or ClientAuth.required(ca)");
    return new TlsCert(this.source, auth);
  }
}

/** Lower-cases and strips a trailing dot: SNI names compare case-insensitively (RFC 6066 §3). */
export function normalizeServerName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/**
 * The built-in SNI table: exact names and `*.example.com` wildcards (one label, as in RFC 6125
 * §6.4.3: `*.example.com` matches `a.example.com`, not `example.com` nor `a.b.example.com`), and
 * a default used for an unknown name and for a client that sends no SNI. Without a default,
 * such handshakes fail.
 *
 * ```ts
 * const sni = new SniResolver()
 *   .add("api.example.com", TlsCert.pemPaths("api.pem", "api-key.pem"))
 *   .add("*.example.com", TlsCert.pemPaths("wild.pem", "wild-key.pem"))
 *   .setDefault(TlsCert.pemPaths("default.pem", "default-key.pem"));
 * Server.builder().tls(TlsCert.resolver(sni));
 * ```
 */
export class SniResolver implements CertResolver {
  readonly #exact = new Map<string, TlsCert>();
  readonly #wildcard = new Map<string, TlsCert>();
  #default: TlsCert | null = null;

  /** Serves `cert` for `name` (`host.example.com` or `*.example.com`). */
  add(name: string, cert: TlsCert): this {
    if (typeof name !== "string" || name === "" || !(cert instanceof TlsCert)) throw new TypeError("SniResolver.add(name, cert) expects a host name and a TlsCert");
    if (cert.source.kind === "resolver") throw new TypeError("SniResolver entries must be static certificates (pemPaths, pem or der)");
    const n = normalizeServerName(name);
    if (n.startsWith("*.")) this.#wildcard.set(n.slice(2), cert);
    else if (n.includes("*")) throw new TypeError(`SniResolver: "${name}" — only a leading "*." wildcard is supported`);
    else this.#exact.set(n, cert);
    return this;
  }

  /** The certificate for unknown names and for clients without SNI. */
  setDefault(cert: TlsCert): this {
    if (!(cert instanceof TlsCert) || cert.source.kind === "resolver") throw new TypeError("SniResolver.setDefault(cert) expects a static TlsCert");
    this.#default = cert;
    return this;
  }

  /** Every certificate in the table (so the server can check them all when it is built). */
  entries(): TlsCert[] {
    return [...this.#exact.values(), ...this.#wildcard.values(), ...(this.#default === null ? [] : [this.#default])];
  }

  /** The certificate for `serverName`; throws when there is no match and no default. */
  resolve(serverName: string | null): TlsCert {
    if (serverName !== null && serverName !== "") {
      const n = normalizeServerName(serverName);
      const exact = this.#exact.get(n);
      if (exact !== undefined) return exact;
      const dot = n.indexOf(".");
      if (dot > 0) {
        const wild = this.#wildcard.get(n.slice(dot + 1));
        if (wild !== undefined) return wild;
      }
    }
    if (this.#default !== null) return this.#default;
    throw new Error(`no certificate for server name ${serverName === null ? "(none sent)" : `"${serverName}"`} and no default`);
  }
}
