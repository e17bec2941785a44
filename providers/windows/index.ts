// Windows host desired state over WinRM: the NPS extension and its settings, NPS certificate, RADIUS timeouts, IAS restarts.
export * from "./compare";
export * from "./hostSession";
export * from "./iasRestart";
export * from "./npsCertificate";
export * from "./npsExtensionInstall";
export * from "./npsExtensionSettings";
export * from "./options";
export * from "./radiusTimeout";
