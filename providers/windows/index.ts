// Windows host desired state over WinRM: NPS certificate, NPS extension settings, RADIUS timeouts, IAS restarts.
export * from "./compare";
export * from "./hostSession";
export * from "./iasRestart";
export * from "./npsCertificate";
export * from "./npsExtensionSettings";
export * from "./options";
export * from "./radiusTimeout";
