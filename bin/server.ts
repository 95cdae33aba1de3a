#!/usr/bin/env node
/** The logway gateway process. */
import { loadConfig, ConfigError } from '../lib/config';
import { startServer } from './wiring';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`logway: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  for (const warning of config.warnings) process.stderr.write(`logway: warning: ${warning}\n`);
  const running = await startServer(config);
  const shutdown = (signal: string) => {
    running.core.logger.info({ signal }, 'signal received');
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`${JSON.stringify({ level: 50, msg: 'unhandled rejection', err: String((reason as Error)?.stack ?? reason) })}\n`);
});

main().catch((e) => {
  process.stderr.write(`logway: failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
