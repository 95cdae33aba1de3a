import { isBuildNoise, visibleBuildLines } from '../../lib/builds/strip';
import { nextStatus, statusOfMessage, isFinal } from '../../lib/builds/status';

describe('build noise (Akkeris strip_build_results)', () => {
  it.each([
    'Step 3/7 : ARG NPM_TOKEN=secret',
    'Step 3 : ARG NPM_TOKEN=secret',
    'Step 12/40 : ARG X=...',
    ' ---> 7a9afc16a57f',
    ' ---> Running in 640e44403abe',
    '+ npm install',
    'The push refers to a repository [registry/app]',
    'tar: Removing leading `/` from member names',
    'gzip: stdin: unexpected end of file',
    'Sending build context to Docker daemon  7.8MB',
  ])('drops %j', (line) => {
    expect(isBuildNoise(line)).toBe(true);
    expect(visibleBuildLines(line)).toEqual([]);
  });

  it.each([
    'Step 1/7 : FROM node:20',
    'Step 2/7 : RUN npm ci',
    '--->  not at the start with one space',
    '+not followed by a space',
    'npm notice tar: not at the start',
    'Successfully built a597d29de7dd',
    'Finished: SUCCESS',
    '  indented output stays indented',
  ])('keeps %j', (line) => {
    expect(isBuildNoise(line)).toBe(false);
    expect(visibleBuildLines(line)).toEqual([line]);
  });

  it('splits multi-line messages on CR, LF and CRLF and drops blank lines (collapsed runs)', () => {
    expect(visibleBuildLines('a\n\n\n  \nb\r\nc\rd\n ---> 123\n\t\ne')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(visibleBuildLines('')).toEqual([]);
    expect(visibleBuildLines('   ')).toEqual([]);
  });
});

describe('build status transitions', () => {
  it('moves forward only: queued → pending → final', () => {
    expect(nextStatus(null, 'queued')).toBe('queued');
    expect(nextStatus('queued', 'pending')).toBe('pending');
    expect(nextStatus('pending', 'queued')).toBe('pending');
    expect(nextStatus('pending', 'succeeded')).toBe('succeeded');
    expect(nextStatus('queued', 'failed')).toBe('failed');
    expect(nextStatus('succeeded', 'pending')).toBe('succeeded');
  });

  it('keeps the first final status (a redelivered or late message never flips it)', () => {
    expect(nextStatus('succeeded', 'failed')).toBe('succeeded');
    expect(nextStatus('failed', 'succeeded')).toBe('failed');
  });

  it('derives a message’s status from its explicit/Finished status, else text means pending', () => {
    expect(statusOfMessage('failed', true)).toBe('failed');
    expect(statusOfMessage(null, true)).toBe('pending');
    expect(statusOfMessage(null, false)).toBe('queued');
    expect(isFinal('succeeded') && isFinal('failed') && !isFinal('pending') && !isFinal('queued')).toBe(true);
  });
});
