import jwt from 'jsonwebtoken';
import { signSessionToken, verifySessionToken, SessionClaims, resumeTag, taggedCursor, SESSION_AUDIENCE } from '../../lib/tail/token';

const SECRET = 'unit-session-secret-0123456789';

describe('log-session token', () => {
  const claims: SessionClaims = {
    kind: 'app',
    key: 'api-space',
    lines: 5,
    tail: true,
    dyno: 'web',
    type: 'web',
    source: 'app',
    since: 1700000000000,
    filter: 'GET /x',
  };

  it('round-trips every claim', () => {
    const t = signSessionToken(claims, SECRET);
    expect(verifySessionToken(t, SECRET)?.claims).toEqual(claims);
    const minimal: SessionClaims = { kind: 'site', key: 'www.example.com', lines: 1, tail: false };
    expect(verifySessionToken(signSessionToken(minimal, SECRET), SECRET)?.claims).toEqual(minimal);
  });

  it('expires after the open window, except for a resume within the grace period', () => {
    const t = signSessionToken(claims, SECRET, { openWindowSeconds: 300 });
    const now = Date.now();
    expect(verifySessionToken(t, SECRET, { now: now + 299_000 })).not.toBeNull();
    expect(verifySessionToken(t, SECRET, { now: now + 301_000 })).toBeNull();
    expect(verifySessionToken(t, SECRET, { now: now + 301_000, graceSeconds: 3600 })).not.toBeNull();
    expect(verifySessionToken(t, SECRET, { now: now + 3902_000, graceSeconds: 3600 })).toBeNull();
  });

  it('tags resume cursors per session: only the tag of this token unlocks the cursor', () => {
    const t = signSessionToken(claims, SECRET);
    const other = signSessionToken({ ...claims, lines: 6 }, SECRET);
    const tag = resumeTag(t, SECRET);
    expect(tag).toMatch(/^[\w-]{22}$/);
    expect(taggedCursor(`space:0:5,space:1:7~${tag}`, t, SECRET)).toBe('space:0:5,space:1:7');
    expect(taggedCursor(`space:0:5~${resumeTag(other, SECRET)}`, t, SECRET)).toBeNull();
    expect(taggedCursor(`space:0:5~${resumeTag(t, 'another-secret-0123456789')}`, t, SECRET)).toBeNull();
    expect(taggedCursor('space:0:5', t, SECRET)).toBeNull();
    expect(taggedCursor(undefined, t, SECRET)).toBeNull();
  });

  it('rejects forged, tampered and malformed tokens', () => {
    const t = signSessionToken(claims, SECRET);
    expect(verifySessionToken(t, 'another-secret-0123456789')).toBeNull();
    const [h, , s] = t.split('.');
    const p = Buffer.from(JSON.stringify({ k: 'a', n: 'other-space', l: 5, exp: 9999999999 })).toString('base64url');
    expect(verifySessionToken(`${h}.${p}.${s}`, SECRET)).toBeNull();
    expect(verifySessionToken('not.a.token', SECRET)).toBeNull();
    expect(verifySessionToken('', SECRET)).toBeNull();
    // `alg: none` is never accepted.
    expect(verifySessionToken(jwt.sign({ k: 'a', n: 'x-y', l: 1 }, '', { algorithm: 'none', expiresIn: 60 }), SECRET)).toBeNull();
    // Signed with our secret but not a session (no lines): rejected.
    expect(verifySessionToken(jwt.sign({ k: 'a', n: 'x-y' }, SECRET, { expiresIn: 60 }), SECRET)).toBeNull();
  });
});

describe('log-session token audience and claim bounds', () => {
  const claims: SessionClaims = { kind: 'app', key: 'api-space', lines: 5, tail: false };
  /** Signed with the session secret exactly as a token would be, but with chosen claims. */
  const forge = (payload: object, opts: jwt.SignOptions = {}) => jwt.sign(payload, SECRET, { algorithm: 'HS256', expiresIn: 60, ...opts });

  it('carries the session audience', () => {
    const payload = jwt.decode(signSessionToken(claims, SECRET)) as jwt.JwtPayload;
    expect(payload.aud).toBe(SESSION_AUDIENCE);
  });

  it('refuses a token signed with the session secret but without the session audience (an API JWT when JWT_SECRET = SESSION_SECRET)', () => {
    expect(verifySessionToken(forge({ k: 'a', n: 'api-space', l: 5 }, { audience: SESSION_AUDIENCE }), SECRET)).not.toBeNull();
    expect(verifySessionToken(forge({ k: 'a', n: 'api-space', l: 5 }), SECRET)).toBeNull();
    expect(verifySessionToken(forge({ k: 'a', n: 'api-space', l: 5 }, { audience: 'logway-api' }), SECRET)).toBeNull();
    expect(verifySessionToken(forge({ sub: 'ops', k: 'a', n: 'api-space', l: 5 }, { audience: ['logway-api'] }), SECRET)).toBeNull();
  });

  it('refuses validly signed claims beyond what any session may ask for: lines over 1500, a filter over 10000 characters', () => {
    const sign = (extra: object) => forge({ k: 'a', n: 'api-space', l: 5, ...extra }, { audience: SESSION_AUDIENCE });
    expect(verifySessionToken(sign({ l: 1500 }), SECRET)?.claims.lines).toBe(1500);
    expect(verifySessionToken(sign({ l: 1501 }), SECRET)).toBeNull();
    expect(verifySessionToken(sign({ l: 1e9 }), SECRET)).toBeNull();
    expect(verifySessionToken(sign({ f: 'a'.repeat(10_000) }), SECRET)?.claims.filter).toHaveLength(10_000);
    expect(verifySessionToken(sign({ f: 'a'.repeat(10_001) }), SECRET)).toBeNull();
    // Claims of the wrong type are refused rather than silently dropped.
    expect(verifySessionToken(sign({ f: 42 }), SECRET)).toBeNull();
    expect(verifySessionToken(sign({ i: 'yesterday' }), SECRET)).toBeNull();
  });

  it('refuses validly signed dyno, type or source claims longer than 128 characters or with control characters', () => {
    const sign = (extra: object) => forge({ k: 'a', n: 'api-space', l: 5, ...extra }, { audience: SESSION_AUDIENCE });
    for (const key of ['d', 'y', 's']) {
      expect(verifySessionToken(sign({ [key]: 'w'.repeat(128) }), SECRET)).not.toBeNull();
      expect([key, verifySessionToken(sign({ [key]: 'w'.repeat(129) }), SECRET)]).toEqual([key, null]);
      expect([key, verifySessionToken(sign({ [key]: 'w'.repeat(900_000) }), SECRET)]).toEqual([key, null]);
      for (const bad of ['web\u0000.1', 'web\n1', 'a\u001bb', 'x\u007f']) {
        expect([key, bad, verifySessionToken(sign({ [key]: bad }), SECRET)]).toEqual([key, bad, null]);
      }
    }
    expect(verifySessionToken(sign({ d: 'web.1562910588-cg82f', y: 'web', s: 'akkeris/router' }), SECRET)?.claims).toMatchObject({
      dyno: 'web.1562910588-cg82f',
      type: 'web',
      source: 'akkeris/router',
    });
  });
});
