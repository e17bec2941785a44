// Thin Graph I/O for service principals: find by appId, create, enable, read and write keyCredentials.
import type { GraphClient } from "../../remote/graph/client";
import type { GraphKeyCredential } from "./keyCredentials";
import { keyCredentialForPatch } from "./keyCredentials";

export interface ServicePrincipalSummary {
  id: string;
  appId: string;
  displayName: string;
  accountEnabled: boolean;
}

const summaryFields = ["id", "appId", "displayName", "accountEnabled"];

export async function findServicePrincipal(
  graph: GraphClient,
  appId: string,
): Promise<ServicePrincipalSummary | undefined> {
  const found = await graph.get<{ value: ServicePrincipalSummary[] }>("/servicePrincipals", {
    filter: `appId eq '${appId}'`,
    select: summaryFields,
  });
  return found.value[0];
}

/** POST /servicePrincipals {appId}: instantiates a first-party application in the tenant. */
export async function createServicePrincipal(
  graph: GraphClient,
  appId: string,
): Promise<ServicePrincipalSummary> {
  const created = await graph.post<ServicePrincipalSummary>("/servicePrincipals", { appId });
  return {
    id: created.id,
    appId: created.appId,
    displayName: created.displayName,
    accountEnabled: created.accountEnabled,
  };
}

/** Sends accountEnabled and nothing else: every other property of a Microsoft SP stays as it is. */
export function setAccountEnabled(graph: GraphClient, id: string, accountEnabled: boolean): Promise<void> {
  return graph.patch(`/servicePrincipals/${id}`, { accountEnabled });
}

/** A single-object GET with $select=keyCredentials: the only read that returns `key`. */
export async function readKeyCredentials(graph: GraphClient, id: string): Promise<GraphKeyCredential[]> {
  const sp = await graph.get<{ keyCredentials: GraphKeyCredential[] }>(`/servicePrincipals/${id}`, {
    select: ["keyCredentials"],
  });
  return sp.keyCredentials ?? [];
}

/** Sent once and abandoned at `deadline` (epoch ms): a stale collection is never resent (keyWrites.ts). */
export function writeKeyCredentialsOnce(
  graph: GraphClient,
  id: string,
  keys: GraphKeyCredential[],
  deadline: number,
): Promise<void> {
  return graph.patchOnce(
    `/servicePrincipals/${id}`,
    { keyCredentials: keys.map(keyCredentialForPatch) },
    deadline,
  );
}
