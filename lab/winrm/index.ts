// The lab's Windows hosts behind WinRM: start them, point clients at host.url, inject faults, count.
export {
  LabWinrmHost,
  LabWinrmHosts,
  defaultLabMaxEnvelopeSize,
  type LabFault,
  type LabWinrmHostOptions,
  type LabWinrmHostsOptions,
  type WsmanActionName,
} from "./host";
