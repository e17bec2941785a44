// Learn (concept-sms-voice-retirement): Microsoft stops delivering SMS and voice calls itself from 1 February
// 2027. A user whose only methods the NPS extension can use are a phone's loses VPN sign-in then.
import { Finding, finding } from "./checks";
import { EstateFacts, methodsWithPap } from "./facts";

export const smsVoiceRetirement = "2027-02-01T00:00:00Z";

/** --user: a warning before the date, a failure from it, when a phone (SMS, voice) is all the extension can use. */
export function methodRetirementFinding(facts: EstateFacts, now: Date): Finding | undefined {
  const user = facts.tenant.user;
  if (!user?.found || user.methodsError) return undefined;
  const usable = user.methods.filter((method) => methodsWithPap.has(method));
  if (usable.length === 0 || usable.some((method) => method !== "phoneAuthenticationMethod"))
    return finding(
      "user-methods-retiring",
      "pass",
      user.upn,
      `not only a phone: ${usable.join(", ") || "no usable method"}`,
    );
  const retired = Date.parse(smsVoiceRetirement) <= now.getTime();
  const days = Math.ceil((Date.parse(smsVoiceRetirement) - now.getTime()) / 86_400_000);
  return finding(
    "user-methods-retiring",
    retired ? "fail" : "warn",
    user.upn,
    retired
      ? "only a phone (SMS, voice call), which Microsoft stopped delivering on 1 February 2027"
      : `only a phone (SMS, voice call): Microsoft stops delivering them on 1 February 2027, in ${days} days`,
  );
}
