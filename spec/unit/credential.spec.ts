/** lib/credential: what a JWT's scope claims grant. */
import { credentialFromClaims, mayTouchApp, mayTouchOwner, mayTouchSite } from '../../lib/credential';

describe('credentialFromClaims', () => {
  it('is an operator credential without scope claims', () => {
    expect(credentialFromClaims({ sub: 'controller', exp: 1 })).toEqual({ kind: 'operator' });
  });

  it('is scoped as soon as one scope claim or access is present, even an empty one', () => {
    for (const claims of [{ apps: [] }, { spaces: [] }, { sites: [] }, { access: 'write' }]) {
      const cred = credentialFromClaims(claims);
      expect(cred?.kind).toBe('scoped');
      expect(mayTouchApp(cred!, 'api-prod')).toBe(false);
    }
  });

  it('refuses claims it cannot read', () => {
    for (const claims of [{ apps: 'api-prod' }, { spaces: [1] }, { sites: [''] }, { access: 'admin' }, { apps: new Array(1001).fill('a-b') }]) {
      expect(credentialFromClaims(claims)).toBeNull();
    }
  });

  it('reads "access":"read" as read-only', () => {
    const cred = credentialFromClaims({ apps: ['api-prod'], access: 'read' });
    expect(cred).toMatchObject({ kind: 'scoped', readOnly: true });
  });
});

describe('what a scoped credential may touch', () => {
  const cred = credentialFromClaims({ apps: ['API-prod'], spaces: ['dev'], sites: ['www.example.com'] })!;

  it('the apps it names (case-insensitively) and the apps of the spaces it names', () => {
    expect(mayTouchApp(cred, 'api-prod')).toBe(true);
    expect(mayTouchApp(cred, 'web-dev')).toBe(true);
    expect(mayTouchApp(cred, 'web-prod')).toBe(false);
    expect(mayTouchApp(cred, 'dev')).toBe(false);
    expect(mayTouchApp(cred, 'web-prod-dev')).toBe(false);
  });

  it('the sites it names, and owners that are either', () => {
    expect(mayTouchSite(cred, 'WWW.example.com')).toBe(true);
    expect(mayTouchSite(cred, 'api.example.com')).toBe(false);
    expect(mayTouchOwner(cred, 'www.example.com')).toBe(true);
    expect(mayTouchOwner(cred, 'web-dev')).toBe(true);
    expect(mayTouchOwner(cred, 'web-prod')).toBe(false);
  });
});
