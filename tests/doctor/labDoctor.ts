// The doctor's findings for a running lab, as `npm run doctor -- --lab <dir>` reaches them: the stack from
// lab.json, Graph and WinRM on the wire, events of the last hour.
import { labStackConfig } from "../../doctor/config";
import { diagnose } from "../../doctor/diagnose";
import { gatherFacts } from "../../doctor/gather";
import type { Finding } from "../../doctor/checks";
import { graphClientFor } from "../../remote/graph/client";
import { winrmRunner } from "../../remote/windows/winrmRunner";

export async function labFindings(labDir: string, user?: string): Promise<Finding[]> {
  const config = labStackConfig(labDir);
  const now = new Date();
  const facts = await gatherFacts(config, {
    graph: graphClientFor(config),
    runnerFor: winrmRunner,
    since: new Date(now.getTime() - 3_600_000),
    now,
    ...(user === undefined ? {} : { user }),
  });
  return diagnose(facts);
}
