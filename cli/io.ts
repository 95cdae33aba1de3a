/** What the CLI touches outside itself, passed in so unit tests can run commands without a process or a network. */
export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  fetch: typeof fetch;
  /** Calls `onInterrupt` on Ctrl-C (SIGINT); returns a function that stops listening. */
  onInterrupt(onInterrupt: () => void): () => void;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    fetch: globalThis.fetch,
    onInterrupt(cb) {
      process.on('SIGINT', cb);
      return () => process.off('SIGINT', cb);
    },
  };
}

/** An error the CLI reports as `logway: <message>` and exits non-zero with. */
export class CliError extends Error {
  constructor(
    message: string,
    public exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
