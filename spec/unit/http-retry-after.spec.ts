/** lib/http's error handler: every 429 carries Retry-After from the error, on any route (issue 13). */
import express from 'express';
import request from 'supertest';
import { errorHandler } from '../../lib/http';
import { BadRequest, TooManyRequests } from '../../lib/errors';

function appRaising(err: Error) {
  const app = express();
  // A route that knows nothing about Retry-After: the handler alone must set it.
  app.post('/apps/:app/log-sessions', (_req, _res, next) => next(err));
  app.use(errorHandler());
  return app;
}

describe('errorHandler and Retry-After', () => {
  it('a TooManyRequests from any route is 429 with Retry-After set to its retryAfterSeconds', async () => {
    const res = await request(appRaising(new TooManyRequests('Too many log history reads are in progress on this node; retry later.', 7))).post(
      '/apps/a-b/log-sessions',
    );
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.body).toEqual({ id: 'rate_limited', message: 'Too many log history reads are in progress on this node; retry later.' });
  });

  it('the default is 5 s', async () => {
    const res = await request(appRaising(new TooManyRequests('busy'))).post('/apps/a-b/log-sessions');
    expect(res.headers['retry-after']).toBe('5');
  });

  it('other errors carry no Retry-After', async () => {
    const res = await request(appRaising(new BadRequest('no'))).post('/apps/a-b/log-sessions');
    expect(res.status).toBe(400);
    expect(res.headers['retry-after']).toBeUndefined();
  });
});
