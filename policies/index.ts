// The policy pack's entry: `pulumi preview --policy-pack policies` loads this file, and constructing the
// PolicyPack starts the analyzer server. It only assembles the rules; each lives, and is tested, in rules/.
import { PolicyPack } from "@pulumi/policy";
import { npsmfaPolicies } from "./allRules";

new PolicyPack("npsmfa-ests-token-error", {
  description: "Stops a change that would bring ESTS_TOKEN_ERROR back to Always On VPN with Entra ID MFA.",
  policies: npsmfaPolicies,
});
