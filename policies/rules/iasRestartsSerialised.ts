// IAS restarts drop every RADIUS request the server is handling: restarting all NPS servers at once
// leaves no server to answer. The restarts must form one chain, each after the one before.
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { dynamicTypeNames, IasRestartInputs } from "../../providers/resourceTypes";
import { dependsOn, describeResource, isUnknown, resourcesOfType, violationMessage } from "./support";

interface Restart {
  resource: PolicyResource;
  host: string;
  previousHost: string | undefined;
}

const outage =
  "while IAS restarts a server answers no RADIUS; restarting more than one NPS server at a time drops every " +
  'Always On VPN sign-in: "the port used for this connection was closed" (RasClient event 20227 on the client)';

const fixChain =
  "let the NpsServer components chain the restarts: the first IasRestart has no previousHostname, each other one " +
  "names the server before it in previousHostname and depends on that server's IasRestart (dependsOn)";

export const iasRestartsSerialised: StackValidationPolicy = {
  name: "ias-restarts-serialised",
  description:
    "The IasRestart resources of a stack form one chain: one first restart, each other one after exactly one " +
    "other (previousHostname and a dependency on it), and no two after the same one.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const resources = resourcesOfType(args.resources, dynamicTypeNames.iasRestart);
    if (resources.length === 0) args.notApplicable("the stack declares no IasRestart");
    const propsOf = (resource: PolicyResource) => resource.props as Partial<IasRestartInputs>;
    if (
      resources.some(
        (r) => isUnknown(() => propsOf(r).hostname) || isUnknown(() => propsOf(r).previousHostname),
      )
    ) {
      // The chain cannot be judged from a preview that does not know it yet; `pulumi up` runs this rule again.
      return;
    }
    const restarts: Restart[] = resources.map((resource) => ({
      resource,
      host: String(propsOf(resource).hostname ?? ""),
      previousHost: propsOf(resource).previousHostname || undefined,
    }));
    const report = (restart: Restart, problem: string, fix = fixChain) =>
      reportViolation(
        violationMessage({
          problem,
          resource: describeResource(restart.resource, restart.host),
          symptom: outage,
          fix,
        }),
        restart.resource.urn,
      );

    const byHost = new Map<string, Restart>();
    for (const restart of restarts) {
      const key = restart.host.toLowerCase();
      const earlier = byHost.get(key);
      if (earlier) {
        report(
          restart,
          `IAS on ${restart.host} is restarted by two resources ("${earlier.resource.name}" and this one)`,
        );
      } else {
        byHost.set(key, restart);
      }
    }

    const heads = restarts.filter((restart) => restart.previousHost === undefined);
    if (heads.length > 1) {
      const hosts = heads.map((head) => head.host).join(", ");
      for (const head of heads.slice(1)) {
        report(head, `${heads.length} IAS restarts have no previousHostname and start together: ${hosts}`);
      }
    }

    const successors = new Map<Restart, Restart[]>();
    for (const restart of restarts) {
      if (restart.previousHost === undefined) continue;
      const previous = byHost.get(restart.previousHost.toLowerCase());
      if (previous === undefined) {
        report(
          restart,
          `previousHostname ${restart.previousHost} names no IasRestart in this stack, so nothing orders this restart`,
        );
        continue;
      }
      if (previous === restart) {
        report(restart, `previousHostname names the restart's own server ${restart.host}`);
        continue;
      }
      if (!dependsOn(restart.resource, previous.resource)) {
        report(
          restart,
          `previousHostname says after ${previous.host}, but the resource does not depend on ` +
            `"${previous.resource.name}", so the engine restarts both at the same time`,
          `add dependsOn: [<IasRestart of ${previous.host}>] to the IasRestart of ${restart.host}`,
        );
      }
      successors.set(previous, [...(successors.get(previous) ?? []), restart]);
    }

    for (const [previous, following] of successors) {
      if (following.length < 2) continue;
      const hosts = following.map((restart) => restart.host).join(", ");
      for (const restart of following.slice(1)) {
        report(restart, `${hosts} all restart right after ${previous.host}, so they restart together`);
      }
    }

    const reached = new Set<Restart>();
    const pending = [...heads];
    while (pending.length > 0) {
      const restart = pending.pop() as Restart;
      if (reached.has(restart)) continue;
      reached.add(restart);
      pending.push(...(successors.get(restart) ?? []));
    }
    for (const restart of restarts) {
      const previous = restart.previousHost && byHost.get(restart.previousHost.toLowerCase());
      if (!reached.has(restart) && previous && previous !== restart) {
        report(
          restart,
          `the restart of ${restart.host} is part of a cycle of previousHostname links and never starts`,
        );
      }
    }
  },
};
