import * as assert from "node:assert/strict";
import { extensionInstallsOneAtATime } from "../../policies/rules/extensionInstallsOneAtATime";
import { extensionInstall, FakeResource, iasRestart, stackViolations } from "./fakes";

const host = (n: number) => `nps0${n}.corp.example.com`;

/** Three servers as NpsServer declares them: install, then restart, each install after the previous restart. */
function rollout(): FakeResource[] {
  const resources: FakeResource[] = [];
  let previous: FakeResource | undefined;
  for (const n of [1, 2, 3]) {
    const install = extensionInstall(host(n), previous ? [previous] : []);
    const restart = iasRestart(host(n), previous);
    restart.dependsOn = [...(restart.dependsOn ?? []), install];
    resources.push(install, restart);
    previous = restart;
  }
  return resources;
}

describe("policy extension-installs-one-at-a-time", () => {
  it("is mandatory", () => {
    assert.equal(extensionInstallsOneAtATime.enforcementLevel, "mandatory");
  });

  it("passes the rollout the NpsServer components declare", async () => {
    assert.deepEqual(await stackViolations(extensionInstallsOneAtATime, rollout()), []);
  });

  it("reports installs that do not wait for the previous server's restart: every server at once", async () => {
    const resources = rollout();
    for (const resource of resources.filter((entry) => entry.name.endsWith("-extension-install")))
      resource.dependsOn = [];
    const violations = await stackViolations(extensionInstallsOneAtATime, resources);
    assert.deepEqual(
      violations.map((violation) =>
        /the install on (\S+) does not wait for the IasRestart of (\S+),/.exec(violation.message)?.slice(1),
      ),
      [
        [host(2), host(1)],
        [host(3), host(2)],
      ],
    );
    assert.match(violations[0].message, /grants VPN access without MFA/);
  });

  it("reports an install whose server's IAS is not restarted after it, or at all", async () => {
    const resources = rollout();
    const restart2 = resources.find((entry) => entry.name === "nps02-ias-restart")!;
    restart2.dependsOn = restart2.dependsOn!.filter((entry) => !entry.name.endsWith("-extension-install"));
    const lonely = extensionInstall(host(4));
    const messages = (await stackViolations(extensionInstallsOneAtATime, [...resources, lonely])).map(
      (violation) => violation.message,
    );
    assert.equal(messages.length, 2);
    assert.match(messages[0], /the IasRestart of nps02\.corp\.example\.com does not depend on its install/);
    assert.match(messages[1], /no IasRestart restarts IAS on nps04\.corp\.example\.com after the install/);
  });
});
