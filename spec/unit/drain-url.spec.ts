import { parseDrainUrl, normalizeDrainUrl, requireUrlParam } from '../../drains/url';
import { HttpError } from '../../lib/errors';

function err(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof HttpError) return { status: e.status, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('parseDrainUrl', () => {
  it('maps each supported scheme to its transport', () => {
    expect(parseDrainUrl('syslog://logs.example.com:514').transport).toBe('tcp');
    expect(parseDrainUrl('syslog+tcp://logs.example.com:514').transport).toBe('tcp');
    expect(parseDrainUrl('syslog+tls://logs.example.com:6514').transport).toBe('tls');
    expect(parseDrainUrl('syslog+udp://10.0.0.1:514').transport).toBe('udp');
    expect(parseDrainUrl('http://collector.example.com/logs').transport).toBe('http');
    expect(parseDrainUrl('HTTPS://collector.example.com/logs').transport).toBe('https');
  });

  it('reads host, port, #insecure and ?framing=newline', () => {
    const t = parseDrainUrl('syslog+tls://logs.papertrailapp.com:12345?framing=newline#insecure');
    expect(t).toMatchObject({ host: 'logs.papertrailapp.com', port: 12345, insecure: true, framing: 'newline' });
    expect(parseDrainUrl('syslog+tls://h.example.com:1').insecure).toBe(false);
    expect(parseDrainUrl('syslog://h.example.com:1').framing).toBe('octet');
    expect(parseDrainUrl('syslog://[::1]:514').host).toBe('::1');
  });

  it('defaults http(s) ports and keeps basic auth out of the endpoint', () => {
    const t = parseDrainUrl('https://user:p%40ss@collector.example.com/path?x=1#frag');
    expect(t).toMatchObject({ port: 443, username: 'user', password: 'p@ss', endpoint: 'https://collector.example.com/path?x=1' });
    expect(parseDrainUrl('http://collector.example.com').port).toBe(80);
    expect(parseDrainUrl('http://collector.example.com:8080/x').port).toBe(8080);
  });

  it('refuses unsupported schemes with 422', () => {
    expect(err(() => parseDrainUrl('ftp://logs.example.com:21'))).toEqual({
      status: 422,
      message: 'The url scheme ftp:// is not supported; use one of syslog://, syslog+tcp://, syslog+tls://, syslog+udp://, http://, https://.',
    });
    expect(err(() => parseDrainUrl('logs.example.com:514')).status).toBe(422);
    expect(err(() => parseDrainUrl('not a url')).status).toBe(422);
  });

  it('refuses bad ports and missing hosts with 422', () => {
    expect(err(() => parseDrainUrl('syslog://logs.example.com:70000'))).toEqual({
      status: 422,
      message: 'The specified url port 70000 is not valid (1-65535).',
    });
    expect(err(() => parseDrainUrl('syslog://logs.example.com:0')).message).toBe('The specified url port 0 is not valid (1-65535).');
    expect(err(() => parseDrainUrl('syslog://logs.example.com:abc')).message).toBe('The specified url port abc is not valid (1-65535).');
    expect(err(() => parseDrainUrl('syslog://logs.example.com')).message).toBe('The specified url has no port; syslog drains need host:port.');
    expect(err(() => parseDrainUrl('syslog+tls://:514')).status).toBe(422);
    expect(err(() => parseDrainUrl('http://bad_host!x/')).status).toBe(422);
  });

  it('never echoes a password in an error', () => {
    const e = err(() => parseDrainUrl('https://u:secret@exa mple.com/'));
    expect(e.status).toBe(422);
    expect(e.message).not.toContain('secret');
  });

  it('422s a malformed %-escape in the userinfo (was a URIError, a 500)', () => {
    expect(err(() => parseDrainUrl('https://u:%ZZ@collector.example.com/'))).toEqual({
      status: 422,
      message: 'The specified url has a malformed %-escape in its user name or password.',
    });
  });

  it('422s control characters and lone surrogates (stored and shown back as written)', () => {
    for (const bad of ['https://collector.example.com/\u0000x', 'syslog://h.example.com:514/a\u001bb', 'https://h.example.com/\ud800']) {
      expect(err(() => parseDrainUrl(bad))).toEqual({ status: 422, message: 'The specified url contains control characters or invalid text.' });
    }
  });

  it('normalises numeric host spellings, syslog urls included (the destination policy judges the address)', () => {
    expect(parseDrainUrl('http://0x7f.1/').host).toBe('127.0.0.1');
    expect(parseDrainUrl('syslog://2130706433:514').host).toBe('127.0.0.1');
    expect(parseDrainUrl('syslog+tls://[::ffff:127.0.0.1]:6514').host).toBe('::ffff:7f00:1');
  });
});

describe('duplicates and the url parameter', () => {
  it('compares urls trimmed and case-insensitively (Akkeris)', () => {
    expect(normalizeDrainUrl('  Syslog://Logs.Example.com:514 ')).toBe(normalizeDrainUrl('syslog://logs.example.com:514'));
  });
  it('requires a url with Akkeris’s 400 text', () => {
    for (const body of [undefined, {}, { url: '' }, { url: '   ' }, { url: null }]) {
      expect(err(() => requireUrlParam(body))).toEqual({ status: 400, message: 'The request did not include a "url" parameter.' });
    }
    expect(err(() => requireUrlParam({ url: 5 })).status).toBe(422);
    expect(requireUrlParam({ url: ' syslog://a.b:1 ' })).toBe('syslog://a.b:1');
  });
});
