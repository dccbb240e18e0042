// Test certificates, made with the openssl CLI on first use and cached in test/.certs/ (git-
// ignored): a CA; server certificates for localhost/127.0.0.1, a.test, b.test and *.w.test; a
// second server certificate for localhost (reload tests); client certificates signed by the CA,
// by another CA, and one that expired in 2020.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const CERT_DIR = fileURLToPath(new URL("../.certs/", import.meta.url));
const VERSION = "v2";

export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}
export interface TestCerts {
  readonly dir: string;
  readonly ca: CertFiles;
  readonly otherCa: CertFiles;
  readonly localhost: CertFiles;
  readonly localhost2: CertFiles;
  readonly a: CertFiles;
  readonly b: CertFiles;
  readonly wild: CertFiles;
  readonly client: CertFiles;
  readonly strangerClient: CertFiles;
  readonly expiredClient: CertFiles;
  /** PEM text of a file in the folder. */
  read(path: string): string;
}

const openssl = (args: string[], cwd: string): void => {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
};

function files(name: string): CertFiles {
  return { cert: join(CERT_DIR, `${name}.pem`), key: join(CERT_DIR, `${name}-key.pem`) };
}

function make(): void {
  rmSync(CERT_DIR, { recursive: true, force: true });
  mkdirSync(CERT_DIR, { recursive: true });
  const dir = CERT_DIR;
  const key = (name: string): void => openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}-key.pem`], dir);
  const ca = (name: string, cn: string): void => {
    key(name);
    openssl(["req", "-x509", "-new", "-key", `${name}-key.pem`, "-sha256", "-days", "3650", "-subj", `/CN=${cn}/O=tako tests`, "-out", `${name}.pem`], dir);
  };
  const leaf = (name: string, cn: string, signer: string, ext: string): void => {
    key(name);
    openssl(["req", "-new", "-key", `${name}-key.pem`, "-subj", `/CN=${cn}/O=tako tests`, "-out", `${name}.csr`], dir);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        `${signer}.pem`,
        "-CAkey",
        `${signer}-key.pem`,
        "-CAcreateserial",
        "-sha256",
        "-days",
        "825",
        "-extfile",
        `${name}.ext`,
        "-out",
        `${name}.pem`,
      ],
      dir,
    );
  };
  const server = (names: string[]): string => `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${names.join(",")}\n`;
  const clientExt = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n";
  ca("ca", "tako test CA");
  ca("other-ca", "some other CA");
  leaf("localhost", "localhost", "ca", server(["DNS:localhost", "IP:127.0.0.1"]));
  leaf("localhost2", "localhost", "ca", server(["DNS:localhost", "IP:127.0.0.1"]));
  leaf("a", "a.test", "ca", server(["DNS:a.test"]));
  leaf("b", "b.test", "ca", server(["DNS:b.test"]));
  leaf("wild", "*.w.test", "ca", server(["DNS:*.w.test"]));
  leaf("client", "client one", "ca", clientExt);
  leaf("stranger", "stranger", "other-ca", clientExt);
  // Expired: `openssl ca` is the CLI that can set past validity dates.
  key("expired");
  openssl(["req", "-new", "-key", "expired-key.pem", "-subj", "/CN=expired client/O=tako tests", "-out", "expired.csr"], dir);
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "expired.ext"), clientExt);
  writeFileSync(
    join(dir, "ca.cnf"),
    `[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=ca.srl\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\norganizationName=optional\n`,
  );
  openssl(
    [
      "ca",
      "-batch",
      "-config",
      "ca.cnf",
      "-cert",
      "ca.pem",
      "-keyfile",
      "ca-key.pem",
      "-startdate",
      "20200101000000Z",
      "-enddate",
      "20200102000000Z",
      "-extfile",
      "expired.ext",
      "-in",
      "expired.csr",
      "-out",
      "expired.pem",
      "-notext",
    ],
    dir,
  );
  writeFileSync(join(dir, "VERSION"), VERSION);
}

let made = false;

/** The test certificates (created once, then reused across runs). */
export function testCerts(): TestCerts {
  if (!made) {
    const version = join(CERT_DIR, "VERSION");
    if (!existsSync(version) || readFileSync(version, "utf8") !== VERSION) make();
    made = true;
  }
  return {
    dir: CERT_DIR,
    ca: files("ca"),
    otherCa: files("other-ca"),
    localhost: files("localhost"),
    localhost2: files("localhost2"),
    a: files("a"),
    b: files("b"),
    wild: files("wild"),
    client: files("client"),
    strangerClient: files("stranger"),
    expiredClient: files("expired"),
    read: (path: string) => readFileSync(path, "utf8"),
  };
}
