/** Plain JS for a worker thread: opens the SSE sessions and measures each line's latency. */
export const CLIENT_WORKER = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const STAMP = Buffer.from(' t=');
let elu0;
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const buckets = new Uint32Array(600001);
let count = 0, max = 0, received = 0, measuring = false;
parentPort.on('message', (msg) => {
  if (msg === 'measure') {
    measuring = true;
    elu0 = performance.eventLoopUtilization();
  } else if (msg === 'report') parentPort.postMessage({ received, buckets, count, max, busy: performance.eventLoopUtilization(elu0).utilization });
  else if (msg === 'open') {
    let open = 0;
    for (let i = 0; i < workerData.sessions; i++) {
      const req = http.get(workerData.urls[i % workerData.urls.length], { agent, headers: { Accept: 'text/event-stream' } }, (res) => {
        if (++open === workerData.sessions) parentPort.postMessage({ open });
        // Bytes, not strings: the 1,000 clients share this thread with nothing else, and decoding
        // 200k lines/s to strings made the bench's own CPU part of the latency it measures.
        // Only whole lines are read: a chunk may end inside a line's stamp (that gave max figures of years).
        let rest = null;
        res.on('data', (buf) => {
          const now = Date.now();
          const data = rest ? Buffer.concat([rest, buf]) : buf;
          const cut = data.lastIndexOf(10) + 1;
          rest = cut < data.length ? Buffer.from(data.subarray(cut)) : null;
          let at = data.indexOf(STAMP);
          while (at >= 0 && at < cut) {
            let t = 0;
            for (let i = at + 3; i < at + 16; i++) t = t * 10 + data[i] - 48;
            const ms = now - t;
            received++;
            if (measuring) {
              buckets[Math.min(600000, Math.max(0, Math.round(ms * 10)))]++;
              count++;
              if (ms > max) max = ms;
            }
            at = data.indexOf(STAMP, at + 16);
          }
        });
      });
      req.on('error', () => undefined);
    }
  }
});
`;
