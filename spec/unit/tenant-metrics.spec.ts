/** METRICS_TOKEN: read and refused like the other secrets; production refuses to start without it. */
import { loadConfig } from '../../lib/config';
import { refusal, safeProductionEnv } from '../helpers/production-config';

const safe = safeProductionEnv;

it('production with a METRICS_TOKEN starts, with no warning', () => {
  const c = loadConfig(safe);
  expect(c.metricsToken).toBe('scrape-token-5b8e2d71c4');
  expect(c.warnings).toEqual([]);
});

it.each([
  ['missing', { METRICS_TOKEN: undefined }, /METRICS_TOKEN is not set/],
  ['empty', { METRICS_TOKEN: '' }, /METRICS_TOKEN is not set/],
  ['a placeholder', { METRICS_TOKEN: 'PLACEHOLDER-metrics-token' }, /placeholder/],
  ['short', { METRICS_TOKEN: 'short' }, /at least 16 characters/],
])('production refuses a METRICS_TOKEN %s', (_what, change, message) => {
  const err = refusal({ ...safe, ...change });
  expect(err.variable).toBe('METRICS_TOKEN');
  expect(err.message).toMatch(message);
  expect(err.message).toMatch(/NODE_ENV=production refuses it/);
});

it('a token that cannot travel as a Bearer token is refused in any mode', () => {
  expect(refusal({ METRICS_TOKEN: 'has a space in it!' }).variable).toBe('METRICS_TOKEN');
  expect(refusal({ METRICS_TOKEN: 'tab\tinside-the-token' }).variable).toBe('METRICS_TOKEN');
});

it('development leaves /metrics open without a token, and says so', () => {
  const c = loadConfig({});
  expect(c.metricsToken).toBeUndefined();
  expect(c.warnings.join('\n')).toMatch(/^METRICS_TOKEN is not set .*refused with NODE_ENV=production$/m);
});
