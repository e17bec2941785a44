// Entra ID desired state over Microsoft Graph: first-party SPs enabled, NPS certificates registered.
export * from "./keyCredentials";
export * from "./keyWrites";
export * from "./npsCertificateCredential";
export * from "./servicePrincipalEnabled";
export * from "./npsSupersededKeys";
