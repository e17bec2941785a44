import * as assert from "node:assert/strict";
import * as https from "node:https";
import * as net from "node:net";
import { ClientCertificateCredential } from "@azure/identity";
import { mfaClientAppId } from "../../config/clouds";
import { issueServerCertificate } from "../../lab/tls";
import { graphClientFor, graphEndpointsFor, GraphClient, identityOptions } from "../../remote/graph";
import { findServicePrincipal } from "../../providers/entra/servicePrincipals";
import { Lab, operatorSecret, startLab } from "./lab";

function clientFor(lab: Lab, overrides: Record<string, unknown> = {}, tuning = {}): GraphClient {
  return graphClientFor(
    {
      tenantId: lab.emulator.tenantId,
      cloud: "public",
      graph: {
        endpoint: lab.emulator.graphEndpoint,
        authorityHost: lab.emulator.authorityHost,
        caFile: lab.emulator.caFile,
        clientId: lab.clientId,
        clientSecret: operatorSecret,
        ...overrides,
      },
    },
    tuning,
  );
}

/** A raw call, to see exactly what the emulator answers. */
function rawGraph(lab: Lab, method: string, path: string, token?: string, body?: unknown) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const request = https.request(
      `${lab.emulator.graphEndpoint}${path}`,
      {
        method,
        ca: lab.ca.certPem,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          "Content-Type": "application/json",
        },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode!, body: text ? JSON.parse(text) : {} }),
        );
      },
    );
    request.on("error", reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("Graph client against the Graph emulator", () => {
  let lab: Lab;
  beforeEach(async () => {
    lab = await startLab({ seed: "article" });
  });
  afterEach(() => lab.stop());

  it("picks the cloud's Graph and authority, and honours overrides", () => {
    assert.deepEqual(graphEndpointsFor("usgov"), {
      graphRoot: "https://graph.microsoft.us/v1.0",
      baseUrl: "https://graph.microsoft.us/",
      version: "v1.0",
      scope: "https://graph.microsoft.us/.default",
      authorityHost: "https://login.microsoftonline.us",
    });
    const lab2 = graphEndpointsFor("public", {
      endpoint: "https://127.0.0.1:9/v1.0/",
      authorityHost: "https://127.0.0.1:9",
    });
    assert.equal(lab2.scope, "https://127.0.0.1:9/.default");
    assert.equal(lab2.graphRoot, "https://127.0.0.1:9/v1.0");
  });

  it("rides out a 429 storm with Retry-After and intermittent 503s", async () => {
    // Pauses without Retry-After grow exponentially; the cap keeps this test short.
    const graph = clientFor(lab, {}, { retryDelaySeconds: 0.1, maxRetryDelaySeconds: 1.5 });
    for (const status of [429, 503, 429, 503, 429] as const) {
      lab.emulator.injectFault({
        kind: "status",
        status,
        ...(status === 429 ? { retryAfterSeconds: 1 } : {}),
      });
    }
    const sp = await findServicePrincipal(graph, mfaClientAppId);
    assert.equal(sp?.accountEnabled, false);
    const statuses = lab.emulator
      .requests()
      .filter((request) => request.path.startsWith("/v1.0"))
      .map((request) => request.status);
    assert.equal(statuses.filter((status) => status === 429).length, 3);
    assert.equal(statuses.filter((status) => status === 503).length, 2);
    assert.equal(statuses.at(-1), 200);
  });

  it("gives up on endless throttling with an error naming the URL and what to do", async () => {
    const graph = clientFor(lab, {}, { retryDelaySeconds: 0.05, maxRetries: 2 });
    lab.emulator.injectFault({ kind: "status", status: 503, times: Infinity });
    await assert.rejects(findServicePrincipal(graph, mfaClientAppId), (error: Error) => {
      assert.match(error.message, /GET https:\/\/127\.0\.0\.1:\d+\/v1\.0\/servicePrincipals\?\$filter=/);
      assert.match(error.message, /503 ServiceNotAvailable.*run again in a few minutes/);
      return true;
    });
  });

  it("rides out dropped connections on reads", async () => {
    const graph = clientFor(lab);
    lab.emulator.injectFault({ kind: "drop", times: 2, pathPattern: /servicePrincipals/ });
    assert.equal((await findServicePrincipal(graph, mfaClientAppId))?.appId, mfaClientAppId);
  });

  it("ends a 403 with an error naming the missing permission", async () => {
    const { clientId } = await lab.emulator.registerClient({
      secret: "Reader-S3cret",
      roles: ["Application.Read.All"],
    });
    const graph = clientFor(lab, { clientId, clientSecret: "Reader-S3cret" });
    const sp = await findServicePrincipal(graph, mfaClientAppId);
    await assert.rejects(
      graph.patch(`/servicePrincipals/${sp!.id}`, { accountEnabled: true }),
      (error: Error) => {
        assert.match(
          error.message,
          /PATCH https:\/\/127\.0\.0\.1:\d+\/v1\.0\/servicePrincipals\/[0-9a-f-]+ failed/,
        );
        assert.match(error.message, /403 Authorization_RequestDenied/);
        assert.match(error.message, /Application\.ReadWrite\.All/);
        assert.doesNotMatch(error.message, /Reader-S3cret/);
        return true;
      },
    );
    assert.equal(lab.emulator.servicePrincipal(mfaClientAppId)?.accountEnabled, false);
  });

  it("ends at a dead endpoint with an error naming the URL, within the timeout", async () => {
    const dead = net.createServer((socket) => socket.on("error", () => undefined));
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const port = (dead.address() as net.AddressInfo).port;
    try {
      const graph = clientFor(lab, { endpoint: `https://127.0.0.1:${port}/v1.0` }, { requestTimeoutMs: 500 });
      const started = Date.now();
      await assert.rejects(findServicePrincipal(graph, mfaClientAppId), (error: Error) => {
        assert.match(
          error.message,
          new RegExp(`GET https://127\\.0\\.0\\.1:${port}/v1\\.0/servicePrincipals`),
        );
        assert.match(error.message, /ETIMEDOUT.*after 3 attempts of at most 500 ms.*npsmfa:graph\.endpoint/);
        return true;
      });
      assert.ok(Date.now() - started < 10_000, "gave up well within a generous bound");
    } finally {
      dead.close();
    }
  });

  it("reads many objects in $batch round trips of at most 20, retrying throttled items", async () => {
    const graph = clientFor(lab, {}, { retryDelaySeconds: 0.05 });
    const sp = lab.emulator.servicePrincipal(mfaClientAppId)!;
    lab.emulator.injectFault({
      kind: "status",
      status: 429,
      retryAfterSeconds: 0,
      target: "batchItem",
      times: 2,
    });
    const answers = await graph.getMany(
      Array.from({ length: 25 }, () => `/servicePrincipals/${sp.id}?$select=id`),
    );
    assert.equal(answers.length, 25);
    assert.ok(
      answers.every((answer) => answer.status === 200 && (answer.body as { id: string }).id === sp.id),
    );
    const batches = lab.emulator.requests().filter((request) => request.path === "/v1.0/$batch");
    assert.equal(batches.length, 3, "20 + 5, then one resend of the two throttled items");
  });

  it("answers like Graph: 401 without or with an expired token, 400 for 21 requests in a batch, key only on a single object", async () => {
    assert.equal((await rawGraph(lab, "GET", "/servicePrincipals")).status, 401);
    const expired = await rawGraph(
      lab,
      "GET",
      "/servicePrincipals",
      lab.emulator.issueToken(lab.clientId, -10),
    );
    assert.equal(expired.status, 401);
    assert.match(JSON.stringify(expired.body), /InvalidAuthenticationToken.*expired/);
    const token = lab.emulator.issueToken(lab.clientId);
    const tooMany = {
      requests: Array.from({ length: 21 }, (_, id) => ({
        id: String(id),
        method: "GET",
        url: "/servicePrincipals",
      })),
    };
    const batch = await rawGraph(lab, "POST", "/$batch", token, tooMany);
    assert.equal(batch.status, 400);
    assert.deepEqual(Object.keys((batch.body.error as Record<string, unknown>) ?? {}), [
      "code",
      "message",
      "innerError",
    ]);

    const certificate = issueServerCertificate(lab.ca, ["nps01.corp.example.com"]);
    const der = new (await import("node:crypto")).X509Certificate(certificate.certPem).raw.toString("base64");
    const sp = lab.emulator.servicePrincipal(mfaClientAppId)!;
    const key = { type: "AsymmetricX509Cert", usage: "Verify", key: der, displayName: "x" };
    assert.equal(
      (await rawGraph(lab, "PATCH", `/servicePrincipals/${sp.id}`, token, { keyCredentials: [key] })).status,
      204,
    );
    const listed = await rawGraph(lab, "GET", `/servicePrincipals?$select=keyCredentials`, token);
    assert.equal(
      (listed.body.value as { keyCredentials: { key: unknown }[] }[])[0].keyCredentials[0].key,
      null,
    );
    const single = await rawGraph(lab, "GET", `/servicePrincipals/${sp.id}?$select=keyCredentials`, token);
    assert.equal((single.body.keyCredentials as { key: string }[])[0].key, der);
    const invalid = await rawGraph(lab, "PATCH", `/servicePrincipals/${sp.id}`, token, {
      keyCredentials: [{ ...key, key: "bm90IGEgY2VydA==" }],
    });
    assert.equal(invalid.status, 400);
    assert.match(JSON.stringify(invalid.body), /Request_BadRequest.*'key'/);
  });

  it("signs in with a certificate client assertion as well as with a secret", async () => {
    const certificate = issueServerCertificate(lab.ca, ["npsmfa-operator"]);
    const { clientId } = await lab.emulator.registerClient({ certificatePem: certificate.certPem });
    const agent = new https.Agent({ ca: lab.ca.certPem });
    const credential = new ClientCertificateCredential(
      lab.emulator.tenantId,
      clientId,
      { certificate: certificate.certPem + certificate.keyPem },
      identityOptions({ authorityHost: lab.emulator.authorityHost, agent }),
    );
    const token = await credential.getToken(`${lab.emulator.url}/.default`);
    assert.equal((await rawGraph(lab, "GET", "/servicePrincipals", token!.token)).status, 200);
    const stranger = issueServerCertificate(lab.ca, ["stranger"]);
    const wrong = new ClientCertificateCredential(
      lab.emulator.tenantId,
      clientId,
      { certificate: stranger.certPem + stranger.keyPem },
      identityOptions({ authorityHost: lab.emulator.authorityHost, agent }),
    );
    await assert.rejects(wrong.getToken(`${lab.emulator.url}/.default`), /AADSTS700027/);
  });
});
