// A development certificate for the demo's HTTPS port, made once with the openssl CLI and kept
// in examples/demo/.dev-cert/ (git-ignored): a local CA and a localhost/127.0.0.1 certificate
// signed by it, so `curl --cacert …/ca.pem` verifies it. Never use it outside development.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface DevCert {
  readonly dir: string;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export function devCert(): DevCert {
  const dir = fileURLToPath(new URL("./.dev-cert/", import.meta.url));
  const files: DevCert = { dir, ca: join(dir, "ca.pem"), cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
  if (existsSync(files.cert) && existsSync(files.key) && existsSync(files.ca)) return files;
  mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  try {
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca-key.pem");
    openssl("req", "-x509", "-new", "-key", "ca-key.pem", "-sha256", "-days", "825", "-subj", "/CN=tako demo CA", "-out", "ca.pem");
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem");
    openssl("req", "-new", "-key", "key.pem", "-subj", "/CN=localhost", "-out", "cert.csr");
    writeFileSync(join(dir, "cert.ext"), "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n");
    openssl("x509", "-req", "-in", "cert.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-sha256", "-days", "825", "-extfile", "cert.ext", "-out", "cert.pem");
  } catch (error) {
    throw new Error(`the demo makes its development certificate with the openssl CLI, which failed or is missing: ${(error as Error).message}`);
  }
  return files;
}
