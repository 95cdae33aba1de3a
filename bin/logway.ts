#!/usr/bin/env node
/** The `logway` CLI entry point (package.json bin → dist/bin/logway.js). */
import { run } from '../cli/program';
import { processIo } from '../cli/io';

run(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`logway: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
