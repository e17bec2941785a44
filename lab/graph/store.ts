// Where the emulated tenant lives: in memory, or in a JSON file that several emulator processes share.
// File writes take a lock file and replace the state by atomic rename, and every request re-reads the
// file, so two processes racing behave like Graph: each PATCH is atomic, the last writer wins.
import * as fs from "node:fs";
import * as path from "node:path";
import { TenantState } from "./directory";

export interface TenantStore {
  read(): TenantState;
  /** Runs `change` on the current state and keeps what it returns. */
  update<T>(change: (state: TenantState) => { state: TenantState; result: T }): Promise<T>;
}

const clone = (state: TenantState): TenantState => JSON.parse(JSON.stringify(state)) as TenantState;

export class MemoryStore implements TenantStore {
  constructor(private state: TenantState) {}
  read(): TenantState {
    return clone(this.state);
  }
  async update<T>(change: (state: TenantState) => { state: TenantState; result: T }): Promise<T> {
    const { state, result } = change(clone(this.state));
    this.state = clone(state);
    return result;
  }
}

const lockWaitMs = 5_000;
const staleLockMs = 10_000;

export class FileStore implements TenantStore {
  constructor(readonly file: string) {}

  read(): TenantState {
    return JSON.parse(fs.readFileSync(this.file, "utf8")) as TenantState;
  }

  write(state: TenantState): void {
    const temporary = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(temporary, JSON.stringify(state, null, 2), { mode: 0o600 });
    fs.renameSync(temporary, this.file);
  }

  async update<T>(change: (state: TenantState) => { state: TenantState; result: T }): Promise<T> {
    const lock = `${this.file}.lock`;
    const giveUpAt = Date.now() + lockWaitMs;
    for (;;) {
      try {
        fs.closeSync(fs.openSync(lock, "wx"));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > staleLockMs) fs.rmSync(lock, { force: true });
        if (Date.now() > giveUpAt) {
          throw new Error(
            `Graph emulator: state file ${this.file} stayed locked (${lock}) for ${lockWaitMs} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    try {
      const { state, result } = change(this.read());
      this.write(state);
      return result;
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }
}
