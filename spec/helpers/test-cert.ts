/** A throwaway CA and a server certificate for localhost/127.0.0.1, made with openssl in a temp dir (drain TLS tests). */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCert {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: string;
  cert: string;
  key: string;
}

export function makeTestCert(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logway-cert-'))): TestCert {
  const f = (n: string) => path.join(dir, n);
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=logway test CA',
    '-keyout',
    f('ca-key.pem'),
    '-out',
    f('ca.pem'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', f('key.pem'), '-out', f('server.csr')]);
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca-key.pem'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('cert.pem'),
  ]);
  return {
    dir,
    caFile: f('ca.pem'),
    certFile: f('cert.pem'),
    keyFile: f('key.pem'),
    ca: fs.readFileSync(f('ca.pem'), 'utf8'),
    cert: fs.readFileSync(f('cert.pem'), 'utf8'),
    key: fs.readFileSync(f('key.pem'), 'utf8'),
  };
}
