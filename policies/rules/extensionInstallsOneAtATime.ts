// An extension install uninstalls the old version first (Learn's upgrade steps) and may leave the server without
// its settings until they are applied again: IAS keeps running what it loaded until it restarts. Installed on
// every server at once, one bad installer or one restart too early leaves no NPS server doing MFA. So each
// install runs after the previous server's IAS restart passed its health check, and its own server's IAS
// restart runs after it (the new DLLs load only at IAS start).
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { dynamicTypeNames, IasRestartInputs, NpsExtensionInstallInputs } from "../../providers/resourceTypes";
import {
  dependsOn,
  describeResource,
  isUnknown,
  resourcesOfType,
  sameHost,
  violationMessage,
} from "./support";

const symptom =
  "installs on several NPS servers at once: a failing installer leaves each of them without the extension " +
  "installed, and an IAS start there grants VPN access without MFA; a server whose IAS is never restarted keeps " +
  "running the old version";

export const extensionInstallsOneAtATime: StackValidationPolicy = {
  name: "extension-installs-one-at-a-time",
  description:
    "Each NpsExtensionInstall runs after the previous NPS server's IasRestart and before its own server's " +
    "IasRestart, so the extension is upgraded one server at a time, each loaded and health-checked before the next.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const installs = resourcesOfType(args.resources, dynamicTypeNames.npsExtensionInstall);
    if (installs.length === 0) args.notApplicable("the stack declares no NpsExtensionInstall");
    const restarts = resourcesOfType(args.resources, dynamicTypeNames.iasRestart);
    const hostOf = (resource: PolicyResource) =>
      String((resource.props as Partial<NpsExtensionInstallInputs>).hostname ?? "");
    const known = [...installs, ...restarts].every(
      (resource) =>
        !isUnknown(() => hostOf(resource)) &&
        !isUnknown(() => (resource.props as Partial<IasRestartInputs>).previousHostname),
    );
    // Host names computed during a preview: `pulumi up` runs this rule again with them known.
    if (!known) return;
    const restartOf = (host: string) => restarts.find((restart) => sameHost(hostOf(restart), host));

    for (const install of installs) {
      const host = hostOf(install);
      const report = (problem: string, fix: string) =>
        reportViolation(
          violationMessage({ problem, resource: describeResource(install, host), symptom, fix }),
          install.urn,
        );
      const own = restartOf(host);
      if (!own) {
        report(
          `no IasRestart restarts IAS on ${host} after the install, so IAS never loads the new version`,
          "declare the server with the NpsServer component, which restarts IAS after its install",
        );
        continue;
      }
      if (!dependsOn(own, install)) {
        report(
          `the IasRestart of ${host} does not depend on its install, so IAS may restart before the new version is there`,
          `add the install to the dependsOn of the IasRestart of ${host}`,
        );
      }
      const previousHost = (own.props as Partial<IasRestartInputs>).previousHostname;
      const previous = previousHost ? restartOf(previousHost) : undefined;
      if (previous && !dependsOn(install, previous)) {
        report(
          `the install on ${host} does not wait for the IasRestart of ${previousHost}, the server before it`,
          `add the IasRestart of ${previousHost} to the install's dependsOn (as NpsServer's previousRestart does)`,
        );
      }
    }
  },
};
