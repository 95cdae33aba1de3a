import { Writable } from 'node:stream';
import { createLogger } from '../../lib/logger';

function captured() {
  const out = { text: '' };
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.text += chunk.toString();
      done();
    },
  });
  return { out, log: createLogger('info', dest) };
}

describe('createLogger', () => {
  it('never writes credentials held by a logged object', () => {
    const { out, log } = captured();
    log.info({ headers: { authorization: 'Bearer secret-api-key', accept: 'text/plain' } }, 'a request');
    log.info({ authorization: 'raw-secret-key', upstream: { password: 'pw-secret' } }, 'more');
    log.info({ config: { sessionSecret: 'session-secret-value', jwtSecret: 'jwt-secret-value', apiKeys: ['api-key-value'], port: 5000 } }, 'config');
    expect(out.text).not.toMatch(/secret-api-key|raw-secret-key|pw-secret|session-secret-value|jwt-secret-value|api-key-value/);
    expect(out.text).toContain('[redacted]');
    expect(out.text).toContain('text/plain');
    expect(out.text).toContain('5000');
  });
});
