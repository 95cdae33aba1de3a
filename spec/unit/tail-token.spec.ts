import jwt from 'jsonwebtoken';
import { signSessionToken, verifySessionToken, SessionClaims, resumeTag, taggedCursor } from '../../lib/tail/token';

const SECRET = 'unit-session-secret-0123456789';

describe('log-session token', () => {
  const claims: SessionClaims = { kind: 'app', key: 'api-space', lines: 5, tail: true, dyno: 'web', type: 'web', source: 'app', since: 1700000000000, filter: 'GET /x' };

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
