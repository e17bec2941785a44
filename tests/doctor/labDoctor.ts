// The doctor's findings for a running lab, as `npm run doctor -- --lab <dir>` reaches them: the stack from
// lab.json, Graph and WinRM on the wire, events of the last hour.
import { labStackConfig } from "../../doctor/config";
import { examine } from "../../doctor/examine";
import type { Finding } from "../../doctor/checks";

export function labFindings(labDir: string, user?: string): Promise<Finding[]> {
  return examine(labStackConfig(labDir), { since: new Date(Date.now() - 3_600_000), user });
}
