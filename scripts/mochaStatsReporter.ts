// Mocha's spec reporter, plus the pass/fail counts written to MOCHA_STATS_FILE for scripts/test.ts.
import * as fs from "node:fs";
import Mocha from "mocha";

class SpecWithStats extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const statsFile = process.env.MOCHA_STATS_FILE;
      if (!statsFile) return;
      const stats = runner.stats ?? { passes: 0, failures: 0 };
      fs.writeFileSync(statsFile, JSON.stringify({ passed: stats.passes, failed: stats.failures }));
    });
  }
}

export = SpecWithStats;
