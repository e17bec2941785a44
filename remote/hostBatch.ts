// Host scripts that arrive together for one host leave together: one PowerShell command (one round trip)
// runs them all (hostScriptBatchCommand). A refresh reads a server's certificate, extension settings, IAS
// record and timeouts through different resources at nearly the same moment; run one by one, each paid
// for its own WinRM command and, on a real server, its own Windows PowerShell start. The batcher waits a
// short window after the first request, and while a batch runs, the next one gathers. Only requests the
// engine sends at the same time meet here, and the engine sends a resource's step only after the steps
// it depends on are done, so a batch never reorders dependent work.
import { HostScriptName, PowerShellRunner, runHostScripts, type HostScriptRequest } from "./hostScripts";

interface Waiting {
  request: HostScriptRequest;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

export interface HostScriptBatcherOptions {
  /** How long the first request waits for others; default 20 ms. */
  windowMs?: number;
  /** Called when the host has nothing more to run (the WinRM shell is deleted then). */
  idle?: () => Promise<void>;
}

export class HostScriptBatcher {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Commands sent to the host so far (for tests and the bench). */
  commands = 0;

  constructor(
    private readonly hostname: string,
    private readonly runner: PowerShellRunner,
    private readonly options: HostScriptBatcherOptions = {},
  ) {}

  run<T>(name: HostScriptName, data: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ request: { name, data }, resolve: resolve as (result: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => void this.flush(), this.options.windowMs ?? 20);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0);
        this.commands += 1;
        try {
          const outcomes = await runHostScripts(
            this.runner,
            this.hostname,
            batch.map((waiting) => waiting.request),
          );
          outcomes.forEach((outcome, index) =>
            outcome.ok ? batch[index].resolve(outcome.result) : batch[index].reject(outcome.error),
          );
        } catch (error) {
          // The command itself failed (connection, authentication, timeout): every request in it did.
          for (const waiting of batch) waiting.reject(error);
        }
      }
      await this.options.idle?.().catch(() => undefined);
    } finally {
      this.running = false;
      if (this.waiting.length > 0) this.schedule();
    }
  }
}
