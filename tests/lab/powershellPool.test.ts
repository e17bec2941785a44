// The lab's warm PowerShell: what a command sees must be what a fresh `powershell.exe -EncodedCommand`
// would give it (exit codes, stdin as $input, errors as CLIXML on stderr), with nothing left over from the
// command before, and a pool that runs every command it is given however few workers it has.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { PowerShellPool, runToEnd } from "../../lab/winrm/powershellPool";
import { findPwsh } from "../../scripts/powershell";

const repoRoot = path.resolve(__dirname, "..", "..");

describe("the lab's warm PowerShell workers", function () {
  this.timeout(300_000);
  let pool: PowerShellPool;

  before(() => {
    const pwsh = findPwsh(repoRoot);
    if (!pwsh) throw new Error("pwsh not found: run npm ci");
    pool = new PowerShellPool({ pwsh, cwd: repoRoot, maxWorkers: 2 });
  });
  after(() => pool?.close());

  const run = (script: string) => runToEnd(pool, script, {}, 120_000);

  it("runs more commands than it has workers, each to its end", async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, index) => run(`Start-Sleep -Milliseconds 200; "command ${index}"`)),
    );
    assert.deepEqual(
      results.map((result) => result.stdout.trim()),
      Array.from({ length: 6 }, (_, index) => `command ${index}`),
    );
    assert.ok(pool.started <= 2, `started ${pool.started} workers for a pool of 2`);
  });

  it("gives exit codes as powershell.exe does: exit N, a failed last statement, a terminating error", async () => {
    assert.equal((await run('"x"; exit 7')).exitCode, 7);
    assert.equal((await run("Get-Item -Path /no/such/file")).exitCode, 1);
    const thrown = await run('throw "stopped here"');
    assert.equal(thrown.exitCode, 1);
    assert.match(thrown.stderr, /^#< CLIXML\r\n<Objs .*<S S="Error">.*stopped here/s);
    assert.equal(
      (await run('Get-Item -Path /no/such/file -ErrorAction SilentlyContinue; "fine"')).exitCode,
      0,
    );
  });

  it("leaves nothing for the next command: variables, functions, environment", async () => {
    // Both workers get the polluting command, whichever runs the checks afterwards.
    await Promise.all(
      [1, 2].map(() =>
        run('$global:left = "x"; function Left { }; $env:NPSMFA_LEFT = "x"; Start-Sleep -Milliseconds 300'),
      ),
    );
    const results = await Promise.all(
      [1, 2].map(() =>
        run('"[$global:left][$(Test-Path function:Left)][$env:NPSMFA_LEFT]"; Start-Sleep -Milliseconds 300'),
      ),
    );
    for (const result of results) assert.equal(result.stdout.trim(), "[][False][]");
  });

  it("feeds stdin to $input line by line, and ends it when the client closes it", async () => {
    const output: Buffer[] = [];
    const code = await new Promise<number>((resolve) => {
      const command = pool.run(
        '$lines = @($input); "$($lines.Count):$($lines -join "|")"',
        {},
        { stdout: (data) => output.push(data), stderr: () => undefined, exit: resolve },
      );
      command.write(Buffer.from("first\r\nsec"), false);
      setTimeout(() => command.write(Buffer.from("ond\nthird"), true), 200);
    });
    assert.equal(code, 0);
    assert.equal(Buffer.concat(output).toString().trim(), "3:first|second|third");
  });

  it("starts one more worker when a command waits behind one that sleeps", async () => {
    const pwsh = findPwsh(repoRoot)!;
    const small = new PowerShellPool({ pwsh, cwd: repoRoot, workers: 1, maxWorkers: 2 });
    try {
      const sleeper = runToEnd(small, '"slept"; Start-Sleep -Seconds 60', {}, 120_000);
      const quick = await runToEnd(small, '"quick"', {}, 120_000);
      assert.equal(quick.stdout.trim(), "quick");
      assert.equal(small.started, 2);
      small.close();
      assert.equal((await sleeper).exitCode, 1);
    } finally {
      small.close();
    }
  });

  it("starts no worker for a command that waits behind one that computes", async () => {
    const pwsh = findPwsh(repoRoot)!;
    const small = new PowerShellPool({ pwsh, cwd: repoRoot, workers: 1, maxWorkers: 2 });
    try {
      // Three seconds of the worker's own CPU, however long a busy machine makes that take: the pool
      // looks every 2 s, and a worker getting 2% of a CPU or more counts as computing.
      const busy = runToEnd(
        small,
        "$p = [Diagnostics.Process]::GetCurrentProcess(); $start = $p.TotalProcessorTime.TotalSeconds\n" +
          "while ($p.TotalProcessorTime.TotalSeconds - $start -lt 3) { $p.Refresh(); $null = 1..2000 | ForEach-Object { $_ } }\n" +
          '"computed"',
        {},
        240_000,
      );
      const waiting = await runToEnd(small, '"waited"', {}, 240_000);
      assert.equal((await busy).stdout.trim(), "computed");
      assert.equal(waiting.stdout.trim(), "waited");
      assert.equal(small.started, 1, "a second worker would only have competed for the same CPU");
    } finally {
      small.close();
    }
  });

  it("kills a terminated command's worker, and the next command still runs", async () => {
    const exit = await new Promise<number>((resolve) => {
      const command = pool.run(
        "Start-Sleep -Seconds 600",
        {},
        {
          stdout: () => undefined,
          stderr: () => undefined,
          exit: resolve,
        },
      );
      setTimeout(() => command.terminate(), 500);
    });
    assert.equal(exit, 1);
    assert.equal((await run('"after"')).stdout.trim(), "after");
  });
});
