/**
 * logway's API types, generated from its OpenAPI document (routes/openapi.ts) by openapi-typescript.
 * Do not edit: change the document's fragments, then run `npm run api-types`.
 */
export interface paths {
  '/apps': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The apps logway knows, most recently seen first (the web console app list)
     * @description Apps are learned from the log stream; `last_seen_at` is when a node last saw a line of the app (recorded at most once a minute per node). With `UPSTREAM_URL` set, the request is proxied to the Akkeris controller (`aka apps`).
     */
    get: operations['listApps'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/apps/{app}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The app, for the Heroku CLI
     * @description With `UPSTREAM_URL` set, logway answers only the Heroku CLI (`Accept: application/vnd.heroku+json`) for apps it knows; every other request is proxied to the Akkeris controller, which then owns the answer.
     */
    get: operations['getApp'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/apps/{app}/log-sessions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Create a log session for an app's lines */
    post: operations['createAppLogSession'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sites/{site}/log-sessions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Create a log session for a site's router lines */
    post: operations['createSiteLogSession'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/log-sessions/{token}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The stream (`logplex_url`): history, then live lines with `tail`
     * @description Unauthenticated: the signed token is the session. `Accept: text/event-stream` → SSE (`id:` resume cursor, `data:` line, `: keepalive`, a `retry:` hint); `?format=json` or `Accept: application/x-ndjson` → NDJSON; otherwise text/plain. A stream lives at most `MAX_STREAM_SECONDS`, then ends cleanly.
     */
    get: operations['openLogSession'];
    put?: never;
    post?: never;
    /**
     * Revoke a log session: its open streams end on every node, its URL answers 404
     * @description Operators may revoke any session; a scoped credential (read-only included) those of the apps, spaces and sites it names. Idempotent: revoking again answers the first revocation time.
     */
    delete: operations['revokeLogSession'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/apps/{app}/log-drains': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
      };
      cookie?: never;
    };
    /** The app's log drains */
    get: operations['listAppLogDrains'];
    put?: never;
    /** Add a log drain to the app */
    post: operations['createAppLogDrain'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/apps/{app}/log-drains/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
        /** @description The drain id (uuid), its url, or its token (Heroku accepts all three); a token naming several drains is 409. */
        id: string;
      };
      cookie?: never;
    };
    /** One log drain */
    get: operations['getAppLogDrain'];
    put?: never;
    post?: never;
    /** Remove a log drain (its DLQ lines go with it) */
    delete: operations['deleteAppLogDrain'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sites/{site}/log-drains': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A site: any valid DNS host name (RFC 1123); anything else is 404 `The specified site <site> does not exist.` */
        site: string;
      };
      cookie?: never;
    };
    /** The site's log drains */
    get: operations['listSiteLogDrains'];
    put?: never;
    /** Add a log drain to the site */
    post: operations['createSiteLogDrain'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/sites/{site}/log-drains/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A site: any valid DNS host name (RFC 1123); anything else is 404 `The specified site <site> does not exist.` */
        site: string;
        /** @description The drain id (uuid), its url, or its token (Heroku accepts all three); a token naming several drains is 409. */
        id: string;
      };
      cookie?: never;
    };
    /** One log drain */
    get: operations['getSiteLogDrain'];
    put?: never;
    post?: never;
    /** Remove a log drain (its DLQ lines go with it) */
    delete: operations['deleteSiteLogDrain'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/drains/dlq': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Count and list DLQ lines */
    get: operations['listDlq'];
    put?: never;
    post?: never;
    /** Discard DLQ lines */
    delete: operations['discardDlq'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/drains/dlq/retry': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Mark parked DLQ lines for another delivery */
    post: operations['retryDlq'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/apps/{app}/builds/{id}/result': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A build's result and output */
    get: operations['getBuildResult'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/log-events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * A platform event into the app's log stream
     * @description Produced to the space topic keyed by app key; 201 only after the broker acknowledged (acks=-1).
     */
    post: operations['createLogEvent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/apps/{app}/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Time-bucketed metrics per process type */
    get: operations['getAppMetrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/apps/{app}/metrics/current': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The latest sample per process type, instance and metric */
    get: operations['getAppMetricsCurrent'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/healthz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['healthz'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/live': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get: operations['healthLive'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/health/ready': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Can this node do its main job
     * @description Each dependency checked (Kafka, InfluxDB, PostgreSQL, migrations); no internal host or port in the body.
     */
    get: operations['healthReady'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** logway's own metrics (prefix `logway_`) */
    get: operations['prometheusMetrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The web console (HTML; strict Content-Security-Policy; uses only this API) */
    get: operations['consolePage'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/console': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The web console (HTML; strict Content-Security-Policy; uses only this API) */
    get: operations['consolePageAlias'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/console/{file}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A web console asset (content-hashed name, cached for a year) */
    get: operations['consoleAsset'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This document */
    get: operations['openApiDocument'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /** @description Every error: Akkeris message texts, never a stack trace. */
    Error: {
      /**
       * @description bad_request (400), unauthorized (401), forbidden (403), not_found (404), conflict (409), payload_too_large (413), unprocessable_entity (422), rate_limited (429), service_unavailable (503), internal_server_error (500).
       * @example not_found
       */
      id: string;
      /** @example The specified application api-space does not exist. */
      message: string;
    };
    /** @description One line as NDJSON (`?format=json`), and as kept in the DLQ. */
    LogLineRecord: {
      /** Format: date-time */
      time: string;
      app: string;
      space: string;
      app_key: string;
      /**
       * @example app
       * @example akkeris/router
       */
      source: string;
      dyno: string;
      process_type: string;
      severity: number;
      message: string;
      kafka_topic: string;
      kafka_partition: number;
      kafka_offset: string;
    };
    AppSeen: {
      /** Format: uuid */
      id: string;
      /** @description The app key (`app-space`). */
      name: string;
      /**
       * Format: date-time
       * @description When a node last saw a line of the app.
       */
      last_seen_at: string;
    };
    /** @description Enough of Heroku's app object for the Heroku CLI (11.x) to use the Cedar log-session flow. */
    App: {
      /** Format: uuid */
      id: string;
      /** @description The app key (`app-space`). */
      name: string;
      /** @constant */
      generation: 'cedar';
    };
    /** @description All filters apply before the `lines` count. Missing `lines` is 422 (as in Akkeris; both CLIs always send it). Strings that are empty or only blanks count as absent. */
    LogSessionRequest: {
      /** @description Lines of history, 1..250; a numeric string is accepted (old clients). `< 1` or not a number → 422 `The specified lines was either not a number or less than 1.`; `> 250` → 422 `The specified lines field was larger than allowed (250 is the maximum).` */
      lines: number | string;
      /** @description true: stream live lines after the history; false, null or missing: history only. The strings `"true"` and `"false"` are accepted from old clients; anything else → 422 `The specified tail must be a boolean (true or false).` */
      tail?: (boolean | null) | ('true' | 'false');
      /** @description Exact dyno (`web.1562910588-cg82f`) or a process type (`web`). Heroku sends this one. Longer than 128 characters, or with control characters → 422 naming the field. */
      dyno?: string | null;
      /** @description Same as `dyno` (the Akkeris API name). */
      dyno_name?: string | null;
      /** @description Exact process type. Longer than 128 characters, or with control characters → 422 naming the field. */
      type?: string | null;
      /** @description `app`, `akkeris/router`, `router`, or `akkeris` (every platform source). Longer than 128 characters, or with control characters → 422 naming the field. */
      source?: string | null;
      /**
       * @description `30s`, `10m`, `2h`, `1d` or an RFC3339 date-time, resolved at creation. Unparseable, further back than Kafka keeps lines (`MAX_SINCE_SECONDS`, 604800 s here), or more than 300 s ahead → 422.
       * @example 10m
       * @example 2026-11-21T23:58:01Z
       */
      since?: null | string;
      /**
       * @description A regular expression tested against each message, run by a linear-time engine. Longer than 256 characters, not valid, or using what the engine cannot express (backreferences, lookaround) → 422.
       * @example GET /health
       * @example ^(error|warn)
       */
      filter?: string | null;
    };
    LogSession: {
      /** Format: date-time */
      created_at: string;
      /** @description The session id: `DELETE /log-sessions/{token}` with it revokes the session. Names the app or site, signed by logway. */
      id: string;
      /**
       * Format: uri
       * @description `<PUBLIC_URL>/log-sessions/<signed token>`: unauthenticated, can be opened for 5 minutes.
       */
      logplex_url: string;
      /** Format: date-time */
      updated_at: string;
    };
    DrainRequest: {
      /**
       * @description syslog://, syslog+tcp://, syslog+tls:// (`#insecure` skips certificate checks), syslog+udp:// (host:port required), http://, https://. Missing → 400 `The request did not include a "url" parameter.`; unsupported scheme, bad host or port, or a refused destination (loopback, link-local, metadata, unspecified, multicast, private unless allowed; checked on the resolved addresses) → 422.
       * @example https://user:secret@192.0.2.10/logs
       * @example syslog+tls://198.51.100.7:6514
       * @example syslog+tls://logs.example.com:6514
       */
      url: string;
    };
    Drain: {
      addon: {
        id: string;
        name: string;
      };
      /** Format: date-time */
      created_at: string;
      /** Format: uuid */
      id: string;
      /** @description The app key or site: the RFC5424 HOSTNAME and the Logplex-Drain-Token of what the drain sends. */
      token: string;
      /** Format: date-time */
      updated_at: string;
      /** @description As the user wrote it (trimmed). */
      url: string;
    };
    /** @description Oldest first. */
    DrainList: components['schemas']['Drain'][];
    DlqEntry: {
      /** @description A bigint, as a string. */
      id: string;
      /** Format: uuid */
      drain_id: string;
      /** @description App key or site. */
      app: string;
      line: components['schemas']['LogLineRecord'];
      attempts: number;
      last_error: string;
      /** Format: date-time */
      first_attempt_at: string | null;
      /** Format: date-time */
      last_attempt_at: string | null;
      /** Format: date-time */
      created_at: string;
      /** @enum {string} */
      state: 'parked' | 'retry' | 'inflight';
    };
    /** @description Lines dropped (oldest first) to keep a drain's DLQ within `MAX_DLQ_ROWS_PER_DRAIN`. */
    DlqDrops: {
      /** Format: uuid */
      drain_id: string;
      /** @description App key or site. */
      app: string;
      dropped: number;
      /** Format: date-time */
      last_dropped_at: string;
    };
    DlqList: {
      /** @description Lines matching the filters (not only those returned). */
      count: number;
      /** @description Oldest first. */
      items: components['schemas']['DlqEntry'][];
      /** @description Lines dropped for the drains selected, in all. */
      dropped: number;
      dropped_by_drain: components['schemas']['DlqDrops'][];
    };
    /** @description Which DLQ lines: the filters combine; `{"all": true}` selects every line. The same keys work as query parameters. */
    DlqSelector: {
      id?: string | number;
      ids?: (string | number)[];
      /** Format: uuid */
      drain?: string;
      app?: string;
      all?: boolean;
    };
    BuildResult: {
      build: {
        /** Format: uuid */
        id: string;
        /** @enum {string} */
        status: 'queued' | 'pending' | 'succeeded' | 'failed';
        /** Format: uri */
        output_stream_url: string;
      };
      /** @description Build output, Akkeris-stripped (no ARG steps, no ` ---> ` lines, no blanks). */
      lines: string[];
    };
    /**
     * @description A fluentd-shaped LogSpec from the Akkeris controller; only platform sources (`akkeris/<name>`) are accepted.
     * @example {
     *       "log": "Release v42 created by ops@example.com",
     *       "stream": "stdout",
     *       "kubernetes": {
     *         "container_name": "api",
     *         "pod_name": "akkeris/event"
     *       },
     *       "topic": "docs"
     *     }
     */
    LogSpecRequest: {
      /** @description Not blank, at most 100000 bytes (UTF-8). The other strings: at most 256 characters (else 422 naming the field). */
      log: string;
      /**
       * @default stdout
       * @enum {string}
       */
      stream: 'stdout' | 'stderr';
      /**
       * Format: date-time
       * @description RFC3339; default now.
       */
      time?: string;
      docker?: {
        container_id?: string;
      };
      kubernetes: {
        /**
         * @description The app name.
         * @example api
         */
        container_name: string;
        /** @example akkeris/event */
        pod_name: string;
        namespace_name?: string;
        pod_id?: string;
        host?: string;
        labels?: {
          name?: string;
        };
      };
      /**
       * @description The space: a Kafka topic that already exists (else 422; no topic is created). The platform topics `alamobuildlogs` and `alamoweblogs` are not spaces (422).
       * @example docs
       */
      topic: string;
      tag?: string;
    };
    /** @description The LogSpec as produced to Kafka, defaults filled in (Akkeris echoes it). */
    LogSpec: {
      log: string;
      /** @enum {string} */
      stream: 'stdout' | 'stderr';
      time: string;
      docker: {
        container_id: string;
      };
      kubernetes: {
        namespace_name: string;
        pod_id: string;
        pod_name: string;
        container_name: string;
        labels: {
          name: string;
        };
        host: string;
      };
      topic: string;
      tag: string;
    };
    /** @description process type → metric → bucket start (epoch seconds) → value. Empty buckets and metrics without data are left out; `{}` for an app with no data. */
    MetricsSeries: {
      [key: string]: {
        [key: string]: {
          [key: string]: number;
        };
      };
    };
    /** @description process type → instance → metric → the latest sample of the last 10 minutes (counters also carry a per-second `rate`). */
    MetricsSnapshot: {
      [key: string]: {
        [key: string]: {
          [key: string]: {
            time: number;
            value: number;
            rate?: number;
          };
        };
      };
    };
    State: {
      /** @enum {string} */
      state: 'UP';
    };
    DependencyState: {
      /** @enum {string} */
      state: 'UP' | 'DOWN' | 'DEGRADED';
      error?: string;
    };
    Readiness: {
      /** @enum {string} */
      state: 'UP' | 'DOWN' | 'DEGRADED';
      /** @example Not ready: kafka down. */
      message?: string;
      /** @description Kafka, InfluxDB, PostgreSQL, migrations, and each Kafka consumer as `consumer:<name>` (`DEGRADED` while it holds a partition quarantined). */
      dependencies: {
        [key: string]: components['schemas']['DependencyState'];
      };
      /** @description Kafka partitions a consumer holds as poison (every batch of theirs failed, or a record batch could not be decoded); present only when there is one. The other partitions keep flowing. */
      quarantined?: components['schemas']['QuarantinedPartition'][];
    };
    QuarantinedPartition: {
      /**
       * @description `tail-hub`, `drains`, `builds`, or `drains/<n>` for a drain worker process.
       * @example drains/1
       */
      consumer: string;
      topic: string;
      partition: number;
      /**
       * @description `quarantined`: paused until `retry_at`; `retrying`: resumed at `retry_at`, listed until one of its batches goes through.
       * @enum {string}
       */
      state: 'quarantined' | 'retrying';
      /**
       * Format: date-time
       * @description When it was first quarantined.
       */
      since: string;
      /**
       * Format: date-time
       * @description When it is (or was) tried again.
       */
      retry_at: string;
      /** @description The handler's error message, or why a record batch could not be decoded: its first line, at most 200 characters. */
      reason: string;
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: {
    /** @description The request id (echoed when given and well-formed, else generated); in every log line about the request. */
    'X-Request-Id': string;
    /** @description Strong ETag of the body; send it back in If-None-Match for a 304. */
    ETag: string;
  };
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  listApps: {
    parameters: {
      query?: {
        /** @description Part of the app key (case-insensitive substring). */
        q?: string;
        /** @description Not 1..1000 → 422. */
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The apps. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AppSeen'][];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `limit` is not valid. */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getApp: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The app. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['App'];
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified application <app> does not exist.` */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createAppLogSession: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['LogSessionRequest'];
      };
    };
    responses: {
      /** @description The session; open `logplex_url` within 5 minutes. */
      201: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['LogSession'];
        };
      };
      /** @description Bad request: the body is not valid JSON (`The request body was not valid JSON.`), or a required field is missing. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified application <app> does not exist.` */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is larger than 1 MB. */
      413: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body uses a charset or content encoding that cannot be read. */
      415: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Validation failed; the message says which field and why. */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Too many Kafka read-backs are running on this node (looking for an app not yet known); retry later. */
      429: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          /** @description Seconds to wait before asking again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createSiteLogSession: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A site: any valid DNS host name (RFC 1123); anything else is 404 `The specified site <site> does not exist.` */
        site: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['LogSessionRequest'];
      };
    };
    responses: {
      /** @description The session; open `logplex_url` within 5 minutes. */
      201: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['LogSession'];
        };
      };
      /** @description Bad request: the body is not valid JSON (`The request body was not valid JSON.`), or a required field is missing. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified site <site> does not exist.` (not a valid host name). */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is larger than 1 MB. */
      413: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body uses a charset or content encoding that cannot be read. */
      415: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Validation failed; the message says which field and why. */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  openLogSession: {
    parameters: {
      query?: {
        /** @description NDJSON (wins over `Accept`). */
        format?: 'json' | 'ndjson';
      };
      header?: {
        /** @description SSE resume cursor of this session (any other is ignored); resumes after it without replaying history. */
        'Last-Event-ID'?: string;
      };
      path: {
        /** @description The signed session token. */
        token: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The lines, streamed (chunked). */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
          'text/event-stream': string;
          'application/x-ndjson': components['schemas']['LogLineRecord'];
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified log session was not found or has expired.` (expired, tampered or malformed token). */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A limit of this node was reached: open streams for this app or site (`MAX_STREAMS_PER_APP`, 50 here) or of this session (`MAX_STREAMS_PER_SESSION`), or concurrent Kafka read-backs. */
      429: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          /** @description Seconds to wait before opening the stream again. */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Kafka is down (named, not its address), or this node is at its own limit of open streams (`MAX_STREAMS`) or of what slow streams hold (`STREAMS_BUFFER_BYTES`): another node may serve. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          /** @description Seconds to wait before opening the stream again (node limits). */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  revokeLogSession: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The session id (the `id` of the 201 body that created it), not the logplex_url token. */
        token: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The session is revoked. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            id: string;
            /** Format: date-time */
            revoked_at: string;
          };
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential that does not name the session's app, space or site. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified log session was not found.` (an id logway did not mint: forged, altered or malformed). */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listAppLogDrains: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Oldest first. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DrainList'];
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified application <app> does not exist.` */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createAppLogDrain: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DrainRequest'];
      };
    };
    responses: {
      /** @description The drain. */
      201: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Drain'];
        };
      };
      /** @description No `url` (`The request did not include a "url" parameter.`), a duplicate url (trimmed, case-insensitive), or a body that is not JSON. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified application <app> does not exist.` */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is larger than 1 MB. */
      413: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body uses a charset or content encoding that cannot be read. */
      415: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Unsupported scheme, bad host or port, a refused destination, or `maximum number of drains reached` (10 per app). */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getAppLogDrain: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
        /** @description The drain id (uuid), its url, or its token (Heroku accepts all three); a token naming several drains is 409. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The drain. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Drain'];
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified log drain <id> does not exist.`, or the app does not exist. */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The token names more than one drain. */
      409: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  deleteAppLogDrain: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
        /** @description The drain id (uuid), its url, or its token (Heroku accepts all three); a token naming several drains is 409. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The deleted drain. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Drain'];
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified log drain <id> does not exist.`, or the app does not exist. */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The token names more than one drain. */
      409: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listSiteLogDrains: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A site: any valid DNS host name (RFC 1123); anything else is 404 `The specified site <site> does not exist.` */
        site: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Oldest first. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DrainList'];
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified site <site> does not exist.` (not a valid host name). */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createSiteLogDrain: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A site: any valid DNS host name (RFC 1123); anything else is 404 `The specified site <site> does not exist.` */
        site: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DrainRequest'];
      };
    };
    responses: {
      /** @description The drain. */
      201: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Drain'];
        };
      };
      /** @description No `url` (`The request did not include a "url" parameter.`), a duplicate url (trimmed, case-insensitive), or a body that is not JSON. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified site <site> does not exist.` (not a valid host name). */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is larger than 1 MB. */
      413: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body uses a charset or content encoding that cannot be read. */
      415: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Unsupported scheme, bad host or port, a refused destination, or `maximum number of drains reached` (10 per site). */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getSiteLogDrain: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A site: any valid DNS host name (RFC 1123); anything else is 404 `The specified site <site> does not exist.` */
        site: string;
        /** @description The drain id (uuid), its url, or its token (Heroku accepts all three); a token naming several drains is 409. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The drain. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Drain'];
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified log drain <id> does not exist.`, or the site does not exist. */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The token names more than one drain. */
      409: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  deleteSiteLogDrain: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A site: any valid DNS host name (RFC 1123); anything else is 404 `The specified site <site> does not exist.` */
        site: string;
        /** @description The drain id (uuid), its url, or its token (Heroku accepts all three); a token naming several drains is 409. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The deleted drain. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Drain'];
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified log drain <id> does not exist.`, or the site does not exist. */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The token names more than one drain. */
      409: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listDlq: {
    parameters: {
      query?: {
        /** @description A drain id; not a uuid → 422. */
        drain?: string;
        /** @description An app key or site; blank → 422. */
        app?: string;
        /** @description DLQ line ids, comma-separated; not a positive integer → 422. */
        id?: string;
        /** @description Same as `id`. */
        ids?: string;
        /** @description 0 is a count; not 0..1000 → 422. */
        limit?: number;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Matching lines, oldest first. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DlqList'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A filter or `limit` is not valid. */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  discardDlq: {
    parameters: {
      query?: {
        /** @description A drain id; not a uuid → 422. */
        drain?: string;
        /** @description An app key or site; blank → 422. */
        app?: string;
        /** @description DLQ line ids, comma-separated; not a positive integer → 422. */
        id?: string;
        /** @description Same as `id`. */
        ids?: string;
        /** @description Every line. */
        all?: 'true';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['DlqSelector'];
      };
    };
    responses: {
      /** @description How many lines were discarded. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            discarded: number;
          };
        };
      };
      /** @description Nothing selected (`The request did not say which lines to discard: give "id", "ids", "drain" or "app" (or "all": true).`), or a body that is not JSON. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is larger than 1 MB. */
      413: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body uses a charset or content encoding that cannot be read. */
      415: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A selector is not valid (id not a positive integer, drain not a uuid, empty app). */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  retryDlq: {
    parameters: {
      query?: {
        /** @description A drain id; not a uuid → 422. */
        drain?: string;
        /** @description An app key or site; blank → 422. */
        app?: string;
        /** @description DLQ line ids, comma-separated; not a positive integer → 422. */
        id?: string;
        /** @description Same as `id`. */
        ids?: string;
        /** @description Every line. */
        all?: 'true';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['DlqSelector'];
      };
    };
    responses: {
      /** @description How many parked lines were marked; a worker resends them within seconds. */
      202: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            retried: number;
          };
        };
      };
      /** @description Nothing selected (`The request did not say which lines to retry: give "id", "ids", "drain" or "app" (or "all": true).`), or a body that is not JSON. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is larger than 1 MB. */
      413: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body uses a charset or content encoding that cannot be read. */
      415: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A selector is not valid (id not a positive integer, drain not a uuid, empty app). */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getBuildResult: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
        /** @description The build id. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Streamed; a queued build has no lines yet. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['BuildResult'];
        };
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified application <app> does not exist.` or `The specified build <id> was not found.` (also for a build of another app). */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified uuid was invalid.` (checked before the app). */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createLogEvent: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['LogSpecRequest'];
      };
    };
    responses: {
      /** @description The LogSpec as produced. */
      201: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['LogSpec'];
        };
      };
      /** @description Not JSON, or JSON that is not an object. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The request body is larger than 1 MB. */
      413: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description The body uses a charset or content encoding that cannot be read. */
      415: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A field is missing or not valid, or the space (topic) does not exist. */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (Kafka or PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getAppMetrics: {
    parameters: {
      query?: {
        /** @description At least 10s, at most 366d. */
        resolution?: string;
        /** @description ISO 8601 or epoch seconds; default `to` − 7 days, shortened to the last 1,000 buckets. */
        from?: string;
        /** @description ISO 8601 or epoch seconds; default now; at most 1 day ahead. */
        to?: string;
        stat?: 'mean' | 'p90';
      };
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Grouped by process type. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          ETag: components['headers']['ETag'];
          /** @description `110 - "Response is Stale"` when InfluxDB is down and this is the cached answer for a range that ended before the outage, served past its TTL (for at most `METRICS_STALE_SECONDS`); absent on a fresh answer. */
          Warning?: '110 - "Response is Stale"';
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MetricsSeries'];
        };
      };
      /** @description Unchanged since the `If-None-Match` ETag. */
      304: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified application <app> does not exist.` */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A parameter is not valid, `from ≥ to`, or more than 1,000 buckets; the message says which and why. */
      422: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (InfluxDB or PostgreSQL); the message names it, not its address. While InfluxDB is down, only a range with no cached answer, or one reaching into the outage, is a 503. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getAppMetricsCurrent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The app key (`app-space`, e.g. `api-docs`) or the app id (a uuid). */
        app: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Snapshot. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          ETag: components['headers']['ETag'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['MetricsSnapshot'];
        };
      };
      /** @description Unchanged since the `If-None-Match` ETag. */
      304: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Bad request: a path parameter is not valid percent-encoding. */
      400: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description No valid API key or token in `Authorization`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A scoped credential (a JWT with `apps`/`spaces`/`sites` claims, docs/credentials.md) outside its scope, or a read-only one asking to write. */
      403: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description `The specified application <app> does not exist.` */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description A backend is down (InfluxDB or PostgreSQL); the message names it, not its address. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  healthz: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The HTTP server runs. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['State'];
        };
      };
    };
  };
  healthLive: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The HTTP server runs. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['State'];
        };
      };
    };
  };
  healthReady: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Ready (`UP`, or `DEGRADED` naming what is down while tails still work). */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Readiness'];
        };
      };
      /** @description Not ready; `message` names what is down. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Readiness'];
        };
      };
    };
  };
  prometheusMetrics: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Prometheus text format; JSON with `Accept: application/json`. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
          'application/json': Record<string, never>[];
        };
      };
      /** @description METRICS_TOKEN is set and the request did not carry `Authorization: Bearer <METRICS_TOKEN>`. */
      401: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          /** @description `Bearer realm="logway metrics"` */
          'WWW-Authenticate'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description Internal server error (never a stack trace). */
      500: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  consolePage: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The console page. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
        };
      };
      /** @description The console is not built on this node. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  consolePageAlias: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The console page. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'text/html': string;
        };
      };
      /** @description The console is not built on this node. */
      503: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  consoleAsset: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description An asset of this node's console build (named in the page). */
        file: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The asset. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'text/javascript': string;
          'text/css': string;
        };
      };
      /** @description No such asset. */
      404: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  openApiDocument: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description OpenAPI 3.1. */
      200: {
        headers: {
          'X-Request-Id': components['headers']['X-Request-Id'];
          [name: string]: unknown;
        };
        content: {
          'application/json': Record<string, never>;
        };
      };
    };
  };
}
