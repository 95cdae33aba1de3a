import { newNonce, readSessionId, sessionId } from '../../lib/tail/session-id';
import { signSessionToken, streamDeadline, verifySessionToken, resumeTag, taggedCursor } from '../../lib/tail/token';

const OLD = 'old-session-secret-0123456789';
const NEW = 'new-session-secret-0123456789';

describe('log-session ids', () => {
  it('name their target and nonce, authenticated by any accepted secret', () => {
    const nonce = newNonce();
    expect(nonce).toMatch(/^[\w-]{22}$/);
    for (const target of [
      { kind: 'app' as const, key: 'api-space', nonce },
      { kind: 'site' as const, key: 'www.example.com', nonce },
    ]) {
      const id = sessionId(target, OLD);
      expect(readSessionId(id, [OLD])).toEqual(target);
      expect(readSessionId(id, [NEW, OLD])).toEqual(target);
      expect(readSessionId(id, [NEW])).toBeNull();
    }
  });

  it('refuses ids logway did not mint: another target, another nonce, malformed', () => {
    const id = sessionId({ kind: 'app', key: 'api-space', nonce: newNonce() }, OLD);
    const [k, , n, mac] = id.split('.');
    const otherKey = Buffer.from('victim-space').toString('base64url');
    expect(readSessionId(`${k}.${otherKey}.${n}.${mac}`, [OLD])).toBeNull();
    expect(readSessionId(`s.${id.slice(2)}`, [OLD])).toBeNull();
    expect(readSessionId(`${k}.${id.split('.')[1]}.${newNonce()}.${mac}`, [OLD])).toBeNull();
    for (const bad of ['', 'a', 'a.b.c.d', `${id}x`, `${id}.x`, 'e3b0c442-98fc-1c14-9afb-f4c8996fb924']) {
      expect([bad, readSessionId(bad, [OLD])]).toEqual([bad, null]);
    }
  });
});

describe('log-session tokens with several secrets', () => {
  const claims = { kind: 'app' as const, key: 'api-space', lines: 5, tail: true, nonce: newNonce() };

  it('carry the nonce, and verify with any accepted secret, saying which', () => {
    const t = signSessionToken(claims, OLD);
    const v = verifySessionToken(t, [NEW, OLD]);
    expect(v?.claims).toEqual(claims);
    expect(v?.secret).toBe(OLD);
    expect(verifySessionToken(t, [NEW])).toBeNull();
    // The resume tag is the signing secret's, so a node that signs with NEW still unlocks it.
    const tag = resumeTag(t, OLD);
    expect(taggedCursor(`space:0:1~${tag}`, t, v!.secret)).toBe('space:0:1');
  });

  it('refuses a nonce that is not one', () => {
    const t = signSessionToken({ ...claims, nonce: 'short' }, OLD);
    expect(verifySessionToken(t, OLD)).toBeNull();
  });
});

describe('streamDeadline', () => {
  const max = 3_600_000;
  const exp = 1_800_000_000; // the open window closes here (epoch seconds)

  it('gives a stream opened within the open window its full duration', () => {
    const openedAt = exp * 1000 - 200_000;
    expect(streamDeadline(exp, openedAt, max)).toBe(openedAt + max);
  });

  it('never reaches past the open window plus one stream duration, however late a resume comes', () => {
    for (const late of [1, 60_000, max - 1, max + 5_000]) {
      expect(streamDeadline(exp, exp * 1000 + late, max)).toBe(exp * 1000 + max);
    }
  });
});
