// The article's story, told against a running lab by either engine. The tool takes over a working estate
// (a first `up` that writes nothing); then what the article describes happens behind its back; a dial
// fails as the article's did; the doctor names the cause and its fix; `preview --refresh` shows every
// drifted setting, live and declared; `up --refresh` repairs it (IAS restarted one server at a time); the
// dial succeeds and the doctor finds nothing failing; two more changes behind the tool's back are found and
// repaired without an IAS restart. Each step is checked as it happens; the first check that fails ends the
// story with its reason.
import { performance } from "node:perf_hooks";
import { mfaConnectorAppId } from "../config/clouds";
import { labStackConfig } from "../doctor/config";
import { defaultSince, examine } from "../doctor/examine";
import { causeLines, doctorReport } from "../doctor/report";
import type { RunningLab } from "../lab/cli";
import { dialInLab, DialResult } from "../lab/radius/vpnDial";
import {
  iasRestarts,
  readHostState,
  rrasDefaultTimeoutSeconds,
  updateHostState,
} from "../lab/windows/hostState";
import { secondsSince } from "../engine/progress";
import { dynamicTypeNames, isDynamicType } from "../providers/resourceTypes";
import { driftLines, eventLines, previewLines, ResourceChange } from "./describe";
import type { ProgressListener } from "../engine";
import type { DemoDriver } from "./driver";
import { progressPrinter } from "./progressPrinter";
import { breakAsTheArticle } from "./theArticle";

export interface StoryStep {
  title: string;
  seconds: number;
}

export interface DemoReport {
  engine: string;
  ok: boolean;
  /** Why the story did not end as it should. */
  reason?: string;
  steps: StoryStep[];
  /** What was wrong: the failed dial's evidence, then each drifted setting the preview found. */
  wrong: string[];
  /** Resources the repair created or updated. */
  changed: string[];
  /** NPS servers whose IAS the repair restarted, in the order they restarted. */
  iasRestarts: string[];
  /** What the second preview found changed behind the tool's back, and the second up repaired. */
  drift: string[];
  dials: { before?: DialResult["outcome"]; after?: DialResult["outcome"] };
  /** The doctor's cause (a check id) after the failed dial, and after the repair (null: no check fails). */
  doctor: { before?: string | null; after?: string | null };
}

/** The resources that must notice the story's two changes behind the tool's back. */
function behindTheBack(vpnHost: string): string[] {
  return ["tenant-mfa-connector", `${vpnHost}-radius-timeout`];
}

const isIasRestart = (change: ResourceChange) => change.type.endsWith(`:${dynamicTypeNames.iasRestart}`);
const isOurs = (change: ResourceChange) => isDynamicType(change.type);
const changed = (changes: ResourceChange[]) =>
  changes.filter((change) => change.op !== "same" && isOurs(change));

export async function tellStory(
  lab: RunningLab,
  driver: DemoDriver,
  say: (line: string) => void,
): Promise<DemoReport> {
  const report: DemoReport = {
    engine: driver.description,
    ok: false,
    steps: [],
    wrong: [],
    changed: [],
    iasRestarts: [],
    drift: [],
    dials: {},
    doctor: {},
  };
  const vpn = lab.description.hosts.find((host) => host.role === "vpn");
  const user = lab.description.users[0];
  if (!vpn || !user) throw new Error("demo: the lab needs a VPN server and a user");
  const step = async <T>(title: string, run: () => Promise<T>): Promise<T> => {
    say(`\n== ${report.steps.length + 1}. ${title}`);
    const started = performance.now();
    try {
      return await run();
    } finally {
      report.steps.push({ title, seconds: secondsSince(started) });
    }
  };
  const expect = (condition: boolean, reason: string) => {
    if (!condition) throw new Error(reason);
  };
  const dial = async () => {
    say(
      `${user.name} dials ${vpn.name} (approving MFA on the phone takes ${lab.description.mfaApprovalSeconds} s)`,
    );
    const result = await dialInLab(lab.description, vpn.name, user.name, lab.dir);
    for (const attempt of result.attempts)
      say(`  ${attempt.server} (RADIUS timeout ${attempt.timeoutSeconds} s): ${attempt.outcome}`);
    say(`${vpn.name}: ${user.name} ${result.outcome}`);
    return { result, events: result.events };
  };
  /** `npm run doctor -- --lab <dir>` as a person would run it next: the cause and its fix, not the table. */
  const doctor = async (since?: Date) => {
    say(`npm run doctor -- --lab ${lab.dir}${since ? ` --since ${since.toISOString()}` : ""}`);
    const findings = await examine(labStackConfig(lab.dir), {
      since: since ?? defaultSince(new Date()),
    });
    const report = doctorReport(findings);
    for (const line of causeLines(report)) say(`  ${line}`);
    return report.cause;
  };
  let repairedAt = new Date();

  try {
    await step("The tool takes over a working estate: pulumi up", async () => {
      say(
        "A first `pulumi up` on a new stack adopts what is there: each create reads, and writes only what differs.",
      );
      const adopted = changed(await driver.up(() => undefined));
      say(`${adopted.length} resources now in the stack's state; IAS restarts: ${restartCount(lab)}.`);
      expect(adopted.length > 0, "the first up adopted nothing");
      expect(restartCount(lab) === 0, "taking over a working estate restarted IAS");
      say("Then, behind the tool's back, what the article describes:");
      for (const line of await breakAsTheArticle(lab)) say(`  ${line}`);
    });

    await step("The failure as a person meets it: a VPN dial", async () => {
      const { result, events } = await dial();
      report.dials.before = result.outcome;
      const lines = eventLines(events);
      say("Events it left:");
      for (const line of lines) say(`  ${line}`);
      report.wrong.push(...lines.filter((line) => line.includes("ESTS_TOKEN_ERROR")));
      expect(result.outcome === "failed", `the first dial was expected to fail, it ${result.outcome}`);
    });

    await step("npm run doctor: why, read-only", async () => {
      report.doctor.before = await doctor();
      expect(report.doctor.before !== null, "the doctor found no check failing after the failed dial");
    });

    await step(
      "pulumi preview --refresh: every resource, each drifted setting live -> declared",
      async () => {
        const changes = await withProgress(say, (progress) => driver.preview(progress));
        for (const line of previewLines(changes.filter((change) => !change.type.startsWith("pulumi:"))))
          say(line);
        // What is wrong now; a value known only after an earlier step is no finding.
        const drift = changed(changes).flatMap((change) =>
          driftLines({
            ...change,
            properties: change.properties.filter((name) => !change.unknown.includes(name)),
          }),
        );
        report.wrong.push(...drift);
        expect(drift.length > 0, "the preview found no drift in the article's state");
      },
    );

    await step("pulumi up --refresh: the repair, live", async () => {
      const changes = await withProgress(say, (progress) => driver.up(progress));
      report.changed = changed(changes).map((change) => `${change.op} ${change.name}`);
      report.iasRestarts = restartedServers(lab);
      expect(
        restartCount(lab) === report.iasRestarts.length,
        "the repair restarted IAS more than once on a server",
      );
      expect(report.iasRestarts.length > 0, "the repair restarted IAS on no NPS server");
      expect(oneAtATime(lab), "IAS was down on two NPS servers at once");
      say(`IAS restarted on ${report.iasRestarts.join(", ")}, one server at a time.`);
      repairedAt = new Date();
    });

    await step("The dial again", async () => {
      const { result, events } = await dial();
      report.dials.after = result.outcome;
      for (const line of eventLines(events)) say(`  ${line}`);
      expect(
        result.outcome === "connected",
        `the dial after the repair was expected to connect, it ${result.outcome}`,
      );
    });

    await step("npm run doctor again, on the events since the repair", async () => {
      report.doctor.after = await doctor(repairedAt);
      expect(
        report.doctor.after === null,
        `the doctor still finds ${report.doctor.after} failing after the repair`,
      );
    });

    await step("Two changes behind the tool's back, found and repaired", async () => {
      const expected = behindTheBack(vpn.name);
      await lab.graph.changeServicePrincipal(mfaConnectorAppId, (connector) => ({
        ...connector,
        accountEnabled: false,
      }));
      updateHostState(vpn.stateFile, (host) => {
        host.remoteAccessRadius[0].timeout = rrasDefaultTimeoutSeconds;
      });
      say("Someone disabled the Azure Multi-Factor Auth Connector in the tenant,");
      say(
        `and put ${vpn.name}'s RADIUS timeout for ${firstRadiusServer(vpn.stateFile)} back to the RRAS default, ${rrasDefaultTimeoutSeconds} s.`,
      );
      say("pulumi preview --refresh:");
      const preview = changed(await withProgress(say, (progress) => driver.preview(progress)));
      for (const line of previewLines(preview)) say(line);
      report.drift = preview.flatMap(driftLines);
      expect(
        sameNames(preview, expected),
        `the preview was expected to list exactly ${expected.join(" and ")}, it listed ${names(preview) || "nothing"}`,
      );
      const restartsBefore = restartCount(lab);
      say("pulumi up --refresh:");
      const repaired = changed(await withProgress(say, (progress) => driver.up(progress)));
      expect(
        sameNames(repaired, expected),
        `the up was expected to change exactly ${expected.join(" and ")}, it changed ${names(repaired) || "nothing"}`,
      );
      expect(
        !repaired.some(isIasRestart) && restartCount(lab) === restartsBefore,
        "the up restarted IAS for changes that need no restart",
      );
      say("Repaired; IAS was not restarted: neither change is something IAS loads.");
    });
    report.ok = true;
  } catch (error) {
    report.reason = error instanceof Error ? error.message : String(error);
  }
  return report;
}

/** Runs one operation with live progress, ended by the count of what it left unchanged. */
async function withProgress<T>(
  say: (line: string) => void,
  operation: (progress: ProgressListener) => Promise<T>,
): Promise<T> {
  const progress = progressPrinter(say);
  const result = await operation(progress);
  progress.finish();
  return result;
}

/** Each NPS server's IAS restarts, as the server itself records them (start times). */
function iasRestartLog(lab: RunningLab): { host: string; restartedAt: string[] }[] {
  return lab.description.hosts
    .filter((host) => host.role === "nps")
    .map((host) => ({
      host: host.name,
      restartedAt: iasRestarts(readHostState(host.stateFile)).map((entry) => entry.startedAt ?? ""),
    }));
}

/** NPS servers whose IAS restarted, in the order their first restart began. */
function restartedServers(lab: RunningLab): string[] {
  return iasRestartLog(lab)
    .filter((entry) => entry.restartedAt.length > 0)
    .sort((a, b) => a.restartedAt[0].localeCompare(b.restartedAt[0]))
    .map((entry) => entry.host);
}

/** Each restart began (IAS stopped) only after the one before it had IAS running again. */
function oneAtATime(lab: RunningLab): boolean {
  const restarts = lab.description.hosts
    .filter((host) => host.role === "nps")
    .flatMap((host) => iasRestarts(readHostState(host.stateFile)))
    .sort((a, b) => (a.stoppedAt ?? "").localeCompare(b.stoppedAt ?? ""));
  return restarts.every(
    (restart, index) => index === 0 || (restarts[index - 1].startedAt ?? "") <= (restart.stoppedAt ?? ""),
  );
}

function restartCount(lab: RunningLab): number {
  return iasRestartLog(lab).reduce((sum, entry) => sum + entry.restartedAt.length, 0);
}

function firstRadiusServer(stateFile: string): string {
  return readHostState(stateFile).remoteAccessRadius[0]?.serverName ?? "its first NPS server";
}

function names(changes: ResourceChange[]): string {
  return changes.map((change) => change.name).join(", ");
}

function sameNames(changes: ResourceChange[], expected: string[]): boolean {
  return (
    names(changes) !== "" &&
    [...changes.map((change) => change.name)].sort().join() === [...expected].sort().join()
  );
}
