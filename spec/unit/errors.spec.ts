import { Unavailable, withoutAddresses } from '../../lib/errors';
import { asHttpError } from '../../lib/http';
import { InfluxError } from '../../lib/influx';

describe('Unavailable', () => {
  it.each([
    ['connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED'],
    ['Connection error: connect ECONNREFUSED 10.20.30.40:9092', 'Connection error: connect ECONNREFUSED'],
    ['connect ECONNREFUSED ::1:8086', 'connect ECONNREFUSED'],
    ['connect ETIMEDOUT [fd00::12]:9092', 'connect ETIMEDOUT'],
    ['getaddrinfo ENOTFOUND kafka-0.kafka.internal', 'getaddrinfo ENOTFOUND'],
    ['ECONNREFUSED influx.internal', 'ECONNREFUSED'],
    ['Failed to connect to seed broker kafka-0.internal:9092 (retrying)', 'Failed to connect to seed broker (retrying)'],
    ['request to http://user:pw@influx.internal:8086/query failed', 'request to failed'],
    ['no answer within 300 ms', 'no answer within 300 ms'],
    ['credentials rejected (status 401)', 'credentials rejected (status 401)'],
  ])('keeps what failed but not where: %s', (detail, reason) => {
    expect(withoutAddresses(detail)).toBe(reason);
    const e = new Unavailable('Kafka', detail);
    expect(e.message).toBe(`Kafka is unavailable: ${reason}.`);
    // The driver's words stay on the error for the server's own logs.
    expect(e.detail).toBe(detail);
  });

  it('says only that the dependency is unavailable when nothing else is left', () => {
    expect(new Unavailable('PostgreSQL', '127.0.0.1:5432').message).toBe('PostgreSQL is unavailable.');
    expect(new Unavailable('PostgreSQL').message).toBe('PostgreSQL is unavailable.');
  });
});

describe('asHttpError', () => {
  it("keeps the 4xx of errors made to be shown (a body parser's), never a dependency's", () => {
    const parser = Object.assign(new Error('request aborted'), { status: 400, expose: true });
    expect(asHttpError(parser)).toMatchObject({ status: 400, message: 'request aborted' });
    const influx = new InfluxError('page not found', 404);
    expect(asHttpError(influx)).toMatchObject({ status: 500, id: 'internal_server_error' });
  });
});
