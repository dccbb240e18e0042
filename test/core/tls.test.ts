// TLS descriptors without sockets: SniResolver matching rules and argument checks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClientAuth, SniResolver, TlsCert } from "../../src/index.ts";

const cert = (name: string): TlsCert => TlsCert.pem(`cert of ${name}`, "key");

describe("SniResolver", () => {
  const a = cert("a");
  const wild = cert("wild");
  const fallback = cert("default");
  const sni = new SniResolver().add("A.Example.com.", a).add("*.example.com", wild).setDefault(fallback);

  test("exact names win over wildcards, case-insensitively, trailing dot ignored", () => {
    assert.equal(sni.resolve("a.example.com"), a);
    assert.equal(sni.resolve("A.EXAMPLE.COM"), a);
    assert.equal(sni.resolve("a.example.com."), a);
  });

  test("a wildcard covers exactly one label", () => {
    assert.equal(sni.resolve("b.example.com"), wild);
    assert.equal(sni.resolve("x.b.example.com"), fallback);
    assert.equal(sni.resolve("example.com"), fallback);
  });

  test("unknown names and no SNI get the default; without a default they throw", () => {
    assert.equal(sni.resolve("other.test"), fallback);
    assert.equal(sni.resolve(null), fallback);
    assert.equal(sni.resolve(""), fallback);
    assert.throws(() => new SniResolver().add("a.test", a).resolve("b.test"), /no certificate for server name "b.test" and no default/);
    assert.throws(() => new SniResolver().resolve(null), /\(none sent\)/);
  });

  test("entries() lists every certificate so the builder can check them", () => {
    assert.deepEqual(new Set(sni.entries()), new Set([a, wild, fallback]));
  });

  test("bad arguments are TypeErrors", () => {
    assert.throws(() => new SniResolver().add("a.*.test", a), /only a leading/);
    assert.throws(() => new SniResolver().add("", a), TypeError);
    assert.throws(
      () =>
        new SniResolver().add(
          "x.test",
          TlsCert.resolver(() => a),
        ),
      /static/,
    );
    assert.throws(() => new SniResolver().setDefault(TlsCert.resolver(() => a)), /static/);
  });
});

describe("TlsCert and ClientAuth", () => {
  test("constructors check their arguments", () => {
    assert.throws(() => TlsCert.pemPaths("", "key.pem"), TypeError);
    assert.throws(() => TlsCert.der([], new Uint8Array(1)), TypeError);
    assert.throws(() => TlsCert.resolver(42 as never), TypeError);
    assert.throws(() => ClientAuth.required("not pem"), /PEM/);
    assert.throws(() => cert("x").withClientAuth({} as never), TypeError);
  });

  test("withClientAuth keeps the source and adds the mode", () => {
    const base = TlsCert.pemPaths("c.pem", "k.pem");
    const pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    const required = base.withClientAuth(ClientAuth.required(pem));
    assert.equal(required.source, base.source);
    assert.equal(required.clientAuth?.mode, "required");
    assert.equal(base.clientAuth, null);
    assert.equal(TlsCert.resolver((name) => (name === null ? base : base)).source.kind, "resolver");
  });
});
