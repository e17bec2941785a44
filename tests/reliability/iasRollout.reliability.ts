// IAS failing to start on the second of three NPS servers, on lab hosts (real pwsh, the Windows shim):
// the first server restarts and stays healthy, the second fails with an error naming it, and the third,
// whose restart depends on the second's (previousHostname, as NpsServer declares it), is never touched:
// the engine runs nothing that depends on a failed resource.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  healthyNpsHost,
  iasRestarts,
  readHostState,
  updateHostState,
  writeHostState,
} from "../../lab/windows/hostState";
import { labHostRunner } from "../../lab/windows/localRunner";
import type { WinrmEndpointInputs } from "../../providers/resourceTypes";
import { IasRestartProvider } from "../../providers/windows";
import { count } from "./tally";

const tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const winrm: WinrmEndpointInputs = {
  url: "https://lab:5986/wsman",
  auth: "basic",
  username: "lab",
  operationTimeoutSeconds: 60,
};

describe("IAS failing to start mid-rollout", function () {
  this.timeout(180_000);

  it("halts on the second of three NPS servers: the first stays healthy, the third untouched", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npsmfa-ias-"));
    const file = (hostname: string) => path.join(dir, `${hostname}.json`);
    const hosts = ["nps01.lab.test", "nps02.lab.test", "nps03.lab.test"];
    try {
      for (const hostname of hosts) writeHostState(file(hostname), healthyNpsHost(hostname, tenantId));
      updateHostState(file(hosts[1]), (state) => {
        state.services.IAS.faults = { failsToStart: true };
      });
      const untouched = fs.readFileSync(file(hosts[2]), "utf8");
      const restarts = new IasRestartProvider({
        runnerFor: (hostname) => labHostRunner(hostname, file(hostname)),
      });
      let failure: Error | undefined;
      for (const [index, hostname] of hosts.entries()) {
        const inputs = {
          hostname,
          winrm,
          ...(index > 0 ? { previousHostname: hosts[index - 1] } : {}),
          triggers: { settings: "changed" },
          healthCheckSeconds: 1,
        };
        failure = await restarts.create(inputs).then(
          () => undefined,
          (error: Error) => error,
        );
        if (failure) break;
      }
      const ias = (hostname: string) => readHostState(file(hostname)).services.IAS;
      const firstHealthy =
        ias(hosts[0]).status === "Running" && iasRestarts(readHostState(file(hosts[0]))).length === 1;
      const thirdUntouched = fs.readFileSync(file(hosts[2]), "utf8") === untouched;
      const named = failure?.message.startsWith(`${hosts[1]}:`) === true;
      count({ faultsInjected: 1, haltedCleanly: firstHealthy && thirdUntouched && named ? 1 : 0 });
      assert.ok(failure, "the rollout halts");
      assert.ok(named, `the error names ${hosts[1]}: ${failure.message}`);
      assert.match(failure.message, /cannot be started|Stopped|start/i);
      assert.ok(firstHealthy, `${hosts[0]} restarted once and is running`);
      assert.equal(ias(hosts[1]).status, "Stopped");
      assert.ok(thirdUntouched, `${hosts[2]} was not touched`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
