/** A production environment loadConfig accepts, and the refusal an unsafe change of it gets. */
import { ConfigError, loadConfig } from '../../lib/config';

export const safeProductionEnv = {
  NODE_ENV: 'production',
  API_KEYS: 'a-real-key-3f9c1e',
  SESSION_SECRET: 'x'.repeat(32),
  JWT_SECRET: 'y'.repeat(32),
  METRICS_TOKEN: 'scrape-token-5b8e2d71c4',
};

export function refusal(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('loadConfig accepted an unsafe configuration');
}
