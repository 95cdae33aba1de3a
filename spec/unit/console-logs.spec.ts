/** The console's pure log logic (web/src/logs): the Akkeris line split, severities, the bounded line store. */
import { fromNdjson, parseLine } from '../../web/src/logs/line';
import { LineStore } from '../../web/src/logs/store';

describe('parseLine', () => {
  it('splits an Akkeris app line into time, source, dyno and message', () => {
    const l = parseLine('id1', '2018-03-24T01:07:20.123Z api-space app[web.1562910588-cg82f]: GET /health 200');
    expect(l).toEqual({
      id: 'id1',
      text: '2018-03-24T01:07:20.123Z api-space app[web.1562910588-cg82f]: GET /health 200',
      time: Date.parse('2018-03-24T01:07:20.123Z'),
      source: 'app',
      dyno: 'web.1562910588-cg82f',
      message: 'GET /health 200',
      severity: '',
    });
  });

  it('reads platform sources without a dyno, and guesses error and warning severities', () => {
    const r = parseLine('', '2018-03-24T01:07:20.123Z api-space akkeris/router: at=error code=H10 desc="App crashed"');
    expect([r.source, r.dyno, r.severity]).toEqual(['akkeris/router', '', 'error']);
    expect(parseLine('', '2018-03-24T01:07:20.123Z a-s app[web.1]: level=warn slow').severity).toBe('warn');
  });

  it('keeps a line that is not in the Akkeris form whole', () => {
    const l = parseLine('', 'Error L11 (Tail buffer overflow) -> This tail session dropped 3 messages');
    expect([l.message, l.severity, Number.isNaN(l.time)]).toEqual(['Error L11 (Tail buffer overflow) -> This tail session dropped 3 messages', 'error', true]);
  });

  it('builds the same text from an NDJSON record, with the syslog severity', () => {
    const l = fromNdjson({
      time: '2018-03-24T01:07:20.123Z',
      app_key: 'api-space',
      source: 'app',
      dyno: 'web.1',
      severity: 3,
      message: 'boom',
      kafka_topic: 'space',
      kafka_partition: 0,
      kafka_offset: '42',
    });
    expect([l.text, l.severity, l.id]).toEqual(['2018-03-24T01:07:20.123Z api-space app[web.1]: boom', 'error', 'space:0:42']);
  });
});

describe('LineStore', () => {
  const line = (n: number) => parseLine('', `line ${n}`);

  it('holds at most its capacity, the newest, addressed by a sequence number that only grows', () => {
    const s = new LineStore(3);
    for (let i = 0; i < 5; i++) s.push(line(i));
    expect([s.first, s.next, s.size]).toEqual([2, 5, 3]);
    expect([...s.range()].map((l) => l.text)).toEqual(['line 2', 'line 3', 'line 4']);
    expect(s.get(1)).toBeUndefined();
    expect(s.get(4)?.text).toBe('line 4');
    expect([...s.range(3, 4)].map((l) => l.text)).toEqual(['line 3']);
  });
});
