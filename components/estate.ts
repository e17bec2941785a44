// The whole estate from one settings object: validated as stack config is, then every component declared,
// as this repository's program does with its `npsmfa:` config. Resources keep the names and parents a
// stack built by buildProgram has, so a stack moves to it without a change.
import { parseEstateSettings } from "../config/estateSettings";
import { readProgramFile } from "../config/load";
import type { EstateSettings } from "../config/schema";
import { buildProgram, ProgramOutputs } from "../program";

export type EstateOutputs = ProgramOutputs;

/**
 * Declares the tenant's MFA service principals and every NPS, VPN and proxy server of `settings`. The
 * providers sign in with the WinRM passwords and the Graph secret of the stack's encrypted `npsmfa:`
 * config (the settings' own passwords are never sent to a resource), so each server here must be there too.
 */
export function declareEstate(settings: EstateSettings): EstateOutputs {
  return buildProgram(parseEstateSettings(settings, readProgramFile));
}
