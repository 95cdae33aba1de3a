import { refusal, safeProductionEnv } from '../helpers/production-config';
import { loadConfig, ConfigError } from '../../lib/config';

describe('loadConfig', () => {
  it('has local defaults matching scripts/stack', () => {
    const c = loadConfig({});
    expect(c.port).toBe(5000);
    expect(c.publicUrl).toBe('http://127.0.0.1:5000');
    expect(c.kafkaBrokers).toEqual(['127.0.0.1:9092']);
    expect(c.influxUrl).toBe('http://127.0.0.1:8086');
    expect(c.influxDb).toBe('logway');
    expect(c.databaseUrl).toBe('postgres://logway:logway@127.0.0.1:5432/logway');
    expect(c.maxSessionLines).toBe(250);
    expect(c.maxStreamSeconds).toBe(3600);
    expect(c.upstreamUrl).toBeUndefined();
  });

  it('reads lists and trims trailing slashes', () => {
    const c = loadConfig({ API_KEYS: ' a, b ,', KAFKA_BROKERS: 'k1:9092,k2:9093', PUBLIC_URL: 'https://logs.example.com/' });
    expect(c.apiKeys).toEqual(['a', 'b']);
    expect(c.kafkaBrokers).toEqual(['k1:9092', 'k2:9093']);
    expect(c.publicUrl).toBe('https://logs.example.com');
  });

  it.each([
    ['PORT', 'abc', /PORT must be an integer/],
    ['PORT', '70000', /PORT must be between 0 and 65535/],
    ['KAFKA_BROKERS', 'localhost', /KAFKA_BROKERS entries must be host:port/],
    ['INFLUX_URL', 'not a url', /INFLUX_URL must be a URL/],
    ['DATABASE_URL', 'mysql://x/y', /DATABASE_URL must use one of postgres, postgresql/],
    ['UPSTREAM_URL', 'ftp://x', /UPSTREAM_URL must use one of http, https/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['SESSION_SECRET', 'short', /SESSION_SECRET must be at least 16 characters/],
    ['MAX_SESSION_LINES', '2000', /MAX_SESSION_LINES must be between 1 and 1500/],
    ['TLS_CERT_FILE', '/nonexistent/cert.pem', /TLS_CERT_FILE names a file that cannot be read/],
  ])('names %s when it is wrong (%s)', (name, value, message) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toMatch(message);
  });
});

describe('loadConfig in production', () => {
  const safe = safeProductionEnv;

  it('accepts a safe configuration with no warnings', () => {
    const c = loadConfig(safe);
    expect(c.production).toBe(true);
    expect(c.warnings).toEqual([]);
  });

  it.each([
    ['API_KEYS', { API_KEYS: undefined }, /API_KEYS is not set/],
    ['API_KEYS', { API_KEYS: 'mine,logway-dev-key' }, /development key/],
    ['SESSION_SECRET', { SESSION_SECRET: undefined }, /SESSION_SECRET is not set/],
    ['SESSION_SECRET', { SESSION_SECRET: 'logway-dev-session-secret' }, /development secret/],
    ['SESSION_SECRET', { SESSION_SECRET: 'z'.repeat(31) }, /at least 32 bytes/],
    ['JWT_SECRET', { JWT_SECRET: 'x'.repeat(32) }, /must differ from SESSION_SECRET/],
    ['API_KEYS', { API_KEYS: 'PLACEHOLDER-api-key' }, /placeholder/],
    ['API_KEYS', { API_KEYS: 'a-real-key-3f9c1e,changeme' }, /placeholder/],
    ['API_KEYS', { API_KEYS: 'a' }, /at least 16 characters/],
    ['SESSION_SECRET', { SESSION_SECRET: `PLACEHOLDER-${'s'.repeat(32)}` }, /placeholder/],
    ['JWT_SECRET', { JWT_SECRET: 'PLACEHOLDER-jwt-secret' }, /placeholder/],
    ['JWT_SECRET', { JWT_SECRET: 'x' }, /at least 32 bytes/],
    // Every secret of a rotation list is held to the same rules as the first.
    ['SESSION_SECRET', { SESSION_SECRET: `${'n'.repeat(32)},${'o'.repeat(31)}` }, /entries must be at least 32 bytes/],
    ['SESSION_SECRET', { SESSION_SECRET: `${'n'.repeat(32)},logway-dev-session-secret` }, /development secret/],
    ['SESSION_SECRET', { SESSION_SECRET: `${'n'.repeat(32)},changeme-${'o'.repeat(32)}` }, /placeholder/],
    ['JWT_SECRET', { SESSION_SECRET: `${'n'.repeat(32)},${'y'.repeat(32)}` }, /must differ from SESSION_SECRET/],
  ])('refuses an unsafe %s', (variable, change, message) => {
    const err = refusal({ ...safe, ...change });
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/NODE_ENV=production/);
  });

  it('keeps development defaults, with warnings', () => {
    const c = loadConfig({});
    expect(c.production).toBe(false);
    expect(c.apiKeys).toEqual(['logway-dev-key']);
    expect(c.warnings.join('\n')).toMatch(/API_KEYS/);
    expect(c.warnings.join('\n')).toMatch(/SESSION_SECRET/);
  });

  it('reads SESSION_SECRET as a list: the first signs, every one is accepted', () => {
    const c = loadConfig({ ...safe, SESSION_SECRET: ` ${'n'.repeat(32)} , ${'o'.repeat(32)} ` });
    expect(c.sessionSecret).toBe('n'.repeat(32));
    expect(c.sessionSecrets).toEqual(['n'.repeat(32), 'o'.repeat(32)]);
    expect(c.warnings).toEqual([]);
    expect(refusal({ SESSION_SECRET: `${'n'.repeat(16)},short` }).message).toMatch(/SESSION_SECRET must be at least 16 characters/);
    expect(loadConfig({}).maxStreamsPerSession).toBe(5);
  });

  it('reads the drain destination policy', () => {
    const c = loadConfig({ DRAIN_ALLOW_PRIVATE: 'true', DRAIN_ALLOW_CIDRS: '127.0.0.0/8, ::1/128' });
    expect(c.drainAllowPrivate).toBe(true);
    expect(c.drainAllowCidrs).toEqual(['127.0.0.0/8', '::1/128']);
    expect(refusal({ DRAIN_ALLOW_CIDRS: '127.0.0.1' }).variable).toBe('DRAIN_ALLOW_CIDRS');
    expect(refusal({ DRAIN_ALLOW_CIDRS: '10.0.0.0/33' }).variable).toBe('DRAIN_ALLOW_CIDRS');
    expect(refusal({ DRAIN_ALLOW_PRIVATE: 'maybe' }).variable).toBe('DRAIN_ALLOW_PRIVATE');
  });
});

describe('TAIL_READING', () => {
  it('is every-topic unless on-demand is asked for; anything else is refused', () => {
    expect(loadConfig({}).tailReading).toBe('every-topic');
    expect(loadConfig({ TAIL_READING: 'on-demand' }).tailReading).toBe('on-demand');
    expect(() => loadConfig({ TAIL_READING: 'sometimes' })).toThrow(ConfigError);
  });
});
