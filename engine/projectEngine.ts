// The engine on this project's program (program.ts built from the stack's validated config), as `pulumi`
// run in the project starts it: what the demo, the bench and the tests start on a lab's stack.
import { loadStackConfig } from "../config/load";
import { buildProgram } from "../program";
import { Engine, type ProgressListener, type StackSettings } from "./index";

export function startProjectEngine(stack: StackSettings, progress?: ProgressListener): Promise<Engine> {
  return Engine.start({ stack, program: () => buildProgram(loadStackConfig()), progress });
}
