import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { authenticate, matchesApiKey } from '../../lib/auth';

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
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a' }, privateKey, { algorithm: 'RS256' })}`, opts)).toBe(true);
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a' }, 'hs-secret', { algorithm: 'HS256' })}`, opts)).toBe(true);
  });

  it('rejects missing headers, wrong keys, foreign, expired and algorithm-confused JWTs', () => {
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(authenticate(undefined, opts)).toBe(false);
    expect(authenticate('Bearer ', opts)).toBe(false);
    expect(authenticate('nope', opts)).toBe(false);
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a' }, other, { algorithm: 'RS256' })}`, opts)).toBe(false);
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a', exp: 1 }, 'hs-secret', { algorithm: 'HS256' })}`, opts)).toBe(false);
    // HS256 signed with the public key as the secret (the classic confusion attack) must not pass.
    expect(authenticate(`Bearer ${jwt.sign({ sub: 'a' }, 'not-the-secret', { algorithm: 'HS256' })}`, { ...opts, jwtSecret: undefined })).toBe(false);
  });
});
