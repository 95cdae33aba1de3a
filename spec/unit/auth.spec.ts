import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { authenticate, matchesApiKey, verifyJwt, MAX_JWT_LIFETIME_SECONDS } from '../../lib/auth';
import { signSessionToken, verifySessionToken, SESSION_AUDIENCE } from '../../lib/tail/token';

const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const opts = { apiKeys: ['k1', 'k2'], jwtSecret: 'hs-secret', jwtPublicKey: pub };

describe('matchesApiKey', () => {
  it('matches any configured key exactly', () => {
    expect(matchesApiKey('k1', ['k1', 'k2'])).toBe(true);
    expect(matchesApiKey('k2', ['k1', 'k2'])).toBe(true);
    expect(matchesApiKey('k', ['k1', 'k2'])).toBe(false);
    expect(matchesApiKey('k10', ['k1', 'k2'])).toBe(false);
    expect(matchesApiKey('', ['k1'])).toBe(false);
  });
});

describe('authenticate', () => {
  it('accepts raw and Bearer keys', () => {
    expect(authenticate('k1', opts)).toBe(true);
    expect(authenticate('Bearer k2', opts)).toBe(true);
    expect(authenticate('bearer k2', opts)).toBe(true);
  });

  it('accepts RS256 and HS256 JWTs signed with the configured keys', () => {
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a' }, privateKey, { algorithm: 'RS256', expiresIn: 60 })}`, opts)).toBe(true);
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a' }, 'hs-secret', { algorithm: 'HS256', expiresIn: 60 })}`, opts)).toBe(true);
  });

  it('rejects missing headers, wrong keys, foreign, expired and algorithm-confused JWTs', () => {
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(authenticate(undefined, opts)).toBe(false);
    expect(authenticate('Bearer ', opts)).toBe(false);
    expect(authenticate('nope', opts)).toBe(false);
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a' }, other, { algorithm: 'RS256', expiresIn: 60 })}`, opts)).toBe(false);
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a', exp: 1 }, 'hs-secret', { algorithm: 'HS256' })}`, opts)).toBe(false);
    // HS256 signed with the public key as the secret (the classic confusion attack) must not pass.
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a' }, 'not-the-secret', { algorithm: 'HS256', expiresIn: 60 })}`, { ...opts, jwtSecret: undefined })).toBe(
      false,
    );
  });
});

describe('JWT claims', () => {
  const hs = (payload: object, o: jwt.SignOptions = {}) => `Bearer ${jwt.sign(payload, 'hs-secret', { algorithm: 'HS256', ...o })}`;
  const rs = (payload: object, o: jwt.SignOptions = {}) => `Bearer ${jwt.sign(payload, privateKey, { algorithm: 'RS256', ...o })}`;

  it('refuses a JWT without exp (it would be valid forever), HS256 and RS256 alike', () => {
    expect(authenticate(hs({ sub: 'a' }), opts)).toBe(false);
    expect(authenticate(rs({ sub: 'a' }), opts)).toBe(false);
    expect(authenticate(hs({ sub: 'a' }, { noTimestamp: true }), opts)).toBe(false);
    // jsonwebtoken will not sign a non-numeric exp, and does not check one it verifies: signed by hand.
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'a', exp: 'never' })}`;
    const signature = crypto.createHmac('sha256', 'hs-secret').update(unsigned).digest('base64url');
    expect(authenticate(`Bearer ${unsigned}.${signature}`, opts)).toBe(false);
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60 }), opts)).toBe(true);
  });

  it('refuses a JWT whose exp is more than the maximum lifetime (24 h) away, e.g. exp: 1e300', () => {
    expect(MAX_JWT_LIFETIME_SECONDS).toBe(86_400);
    const nowSec = Math.floor(Date.now() / 1000);
    expect(authenticate(hs({ sub: 'a', exp: 1e300 }), opts)).toBe(false);
    expect(authenticate(rs({ sub: 'a', exp: 1e300 }), opts)).toBe(false);
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: '25h' }), opts)).toBe(false);
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: '23h' }), opts)).toBe(true);
    // The bound itself, at a fixed clock.
    expect(verifyJwt(jwt.sign({ sub: 'a', exp: nowSec + 86_400 }, 'hs-secret', { algorithm: 'HS256' }), opts, nowSec * 1000)).toBe(true);
    expect(verifyJwt(jwt.sign({ sub: 'a', exp: nowSec + 86_401 }, 'hs-secret', { algorithm: 'HS256' }), opts, nowSec * 1000)).toBe(false);
    // An already-expired token stays refused at the injected clock.
    expect(verifyJwt(jwt.sign({ sub: 'a', exp: nowSec + 60 }, 'hs-secret', { algorithm: 'HS256' }), opts, (nowSec + 61) * 1000)).toBe(false);
  });

  it('refuses any JWT with a crit header (RFC 7515 §4.1.11), HS256 and RS256 alike', () => {
    const crit = { header: { alg: 'HS256', crit: ['exp'] } as unknown as jwt.JwtHeader };
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60, ...crit }), opts)).toBe(false);
    expect(authenticate(rs({ sub: 'a' }, { expiresIn: 60, header: { alg: 'RS256', crit: ['b64'] } as unknown as jwt.JwtHeader }), opts)).toBe(false);
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60, header: { alg: 'HS256', crit: [] } as unknown as jwt.JwtHeader }), opts)).toBe(false);
    // The same token without crit passes.
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60, header: { alg: 'HS256', kid: 'k' } }), opts)).toBe(true);
  });

  it('checks aud when JWT_AUDIENCE is set', () => {
    const withAud = { ...opts, jwtAudience: 'logway-api' };
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60, audience: 'logway-api' }), withAud)).toBe(true);
    expect(authenticate(rs({ sub: 'a' }, { expiresIn: 60, audience: ['other', 'logway-api'] }), withAud)).toBe(true);
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60, audience: 'another-service' }), withAud)).toBe(false);
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60 }), withAud)).toBe(false);
    // Unset: not checked.
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60, audience: 'another-service' }), opts)).toBe(true);
  });

  it('checks iss when JWT_ISSUER is set', () => {
    const withIss = { ...opts, jwtIssuer: 'https://auth.example.com' };
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60, issuer: 'https://auth.example.com' }), withIss)).toBe(true);
    expect(authenticate(rs({ sub: 'a' }, { expiresIn: 60, issuer: 'https://evil.example.com' }), withIss)).toBe(false);
    expect(authenticate(hs({ sub: 'a' }, { expiresIn: 60 }), withIss)).toBe(false);
  });

  describe('with JWT_SECRET equal to SESSION_SECRET (allowed in development)', () => {
    const shared = 'shared-secret-0123456789abcdef';
    const same = { apiKeys: ['k1'], jwtSecret: shared };

    it('refuses a log-session token used as an API token, with or without JWT_AUDIENCE', () => {
      const session = signSessionToken({ kind: 'app', key: 'api-space', lines: 5, tail: true }, shared);
      expect(verifySessionToken(session, shared)).not.toBeNull();
      expect(authenticate(`Bearer ${session}`, same)).toBe(false);
      expect(authenticate(session, same)).toBe(false);
      expect(authenticate(`Bearer ${session}`, { ...same, jwtAudience: SESSION_AUDIENCE })).toBe(false);
      // Hiding the session audience among others does not help.
      expect(
        authenticate(`Bearer ${jwt.sign({ sub: 'a' }, shared, { algorithm: 'HS256', expiresIn: 60, audience: ['logway-api', SESSION_AUDIENCE] })}`, same),
      ).toBe(false);
    });

    it('refuses an API token used as a log-session token', () => {
      const api = jwt.sign({ sub: 'ops', k: 'a', n: 'api-space', l: 5 }, shared, { algorithm: 'HS256', expiresIn: 60 });
      expect(authenticate(`Bearer ${api}`, same)).toBe(true);
      expect(verifySessionToken(api, shared)).toBeNull();
      const apiWithAud = jwt.sign({ sub: 'ops', k: 'a', n: 'api-space', l: 5 }, shared, { algorithm: 'HS256', expiresIn: 60, audience: 'logway-api' });
      expect(authenticate(`Bearer ${apiWithAud}`, { ...same, jwtAudience: 'logway-api' })).toBe(true);
      expect(verifySessionToken(apiWithAud, shared)).toBeNull();
    });
  });
});
