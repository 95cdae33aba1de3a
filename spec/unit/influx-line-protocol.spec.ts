import { escapeKey, escapeMeasurement, escapeTagValue, formatFieldValue, InfluxError, quoteStringField, toLineProtocol } from '../../lib/influx';

describe('line protocol escaping (InfluxDB line protocol reference)', () => {
  it('measurements escape comma and space, nothing else', () => {
    expect(escapeMeasurement('memory_rss')).toBe('memory_rss');
    expect(escapeMeasurement('a b,c=d')).toBe('a\\ b\\,c=d');
    expect(escapeMeasurement('a"b\\c')).toBe('a"b\\c');
  });

  it('tag keys, tag values and field keys escape comma, equals sign and space', () => {
    expect(escapeKey('t k=,')).toBe('t\\ k\\=\\,');
    expect(escapeTagValue('v a=,l')).toBe('v\\ a\\=\\,l');
    expect(escapeTagValue('api-space')).toBe('api-space');
    // InfluxDB keeps quotes and lone backslashes in tags literally: no escaping, no wrapping.
    expect(escapeTagValue(`it's "x" a\\b`)).toBe(`it's\\ "x"\\ a\\b`);
  });

  it('rejects what the line protocol cannot carry instead of corrupting the line', () => {
    expect(() => escapeTagValue('a\nb')).toThrow(/newline/);
    expect(() => escapeTagValue('a\rb')).toThrow(/newline/);
    expect(() => escapeMeasurement('m\n')).toThrow(/newline/);
    expect(() => escapeTagValue('ends\\')).toThrow(/backslash/);
    expect(() => escapeTagValue('a\\,b')).toThrow(/backslash/);
    expect(() => escapeKey('k\\=')).toThrow(/backslash/);
    expect(() => escapeMeasurement('a\\ b')).toThrow(/backslash/);
    expect(() => escapeMeasurement('#comment')).toThrow(/#/);
    expect(() => escapeTagValue('')).toThrow(InfluxError);
  });

  it('string fields are double-quoted with quote and backslash escaped; newlines stay', () => {
    expect(quoteStringField('s"q\\b\\')).toBe('"s\\"q\\\\b\\\\"');
    expect(quoteStringField('line1\nline2')).toBe('"line1\nline2"');
  });

  it('field values by type: float, integer, boolean, string; non-finite numbers rejected', () => {
    expect(formatFieldValue('v', 1.5)).toBe('1.5');
    expect(formatFieldValue('v', 1e21)).toBe('1e+21');
    expect(formatFieldValue('v', 42n)).toBe('42i');
    expect(formatFieldValue('v', true)).toBe('true');
    expect(formatFieldValue('v', 'x')).toBe('"x"');
    expect(() => formatFieldValue('v', NaN)).toThrow(/finite/);
    expect(() => formatFieldValue('v', Infinity)).toThrow(/finite/);
  });
});

describe('toLineProtocol', () => {
  it('sorts tags, leaves out empty ones, joins fields, appends the timestamp', () => {
    expect(
      toLineProtocol({
        measurement: 'cpu_usage_seconds_total',
        tags: { process_type: 'web', instance: 'web.1562910588-cg82f', app: 'api-space', empty: '', missing: undefined },
        fields: { value: 12.5 },
        timestamp: 1471314070,
      }),
    ).toBe('cpu_usage_seconds_total,app=api-space,instance=web.1562910588-cg82f,process_type=web value=12.5 1471314070');
  });

  it('a hostile tag value stays one tag of one line', () => {
    const line = toLineProtocol({ measurement: 'm', tags: { app: `x,app=y value=1 1` }, fields: { value: 1, note: 'a "b"' } });
    expect(line).toBe('m,app=x\\,app\\=y\\ value\\=1\\ 1 value=1,note="a \\"b\\""');
    expect(line.split('\n')).toHaveLength(1);
  });

  it('without a timestamp InfluxDB stamps the point; a point needs a field; timestamps are integers', () => {
    expect(toLineProtocol({ measurement: 'm', fields: { v: 1 } })).toBe('m v=1');
    expect(() => toLineProtocol({ measurement: 'm', fields: {} })).toThrow(/no fields/);
    expect(() => toLineProtocol({ measurement: 'm', fields: { v: 1 }, timestamp: 1.5 })).toThrow(/integer/);
    expect(toLineProtocol({ measurement: 'm', fields: { v: 1 }, timestamp: 1471314070000000000n })).toBe('m v=1 1471314070000000000');
  });
});
