/** A valid POST /log-events body (Akkeris LogSpec: a platform event for app `api` in space `space`), for specs to spoil one field at a time. */
export const logEventBody = () => ({
  log: 'Release v12 created by jane',
  stream: 'stdout',
  time: '2026-01-02T03:04:00.000Z',
  docker: { container_id: '' },
  kubernetes: { namespace_name: 'space', pod_id: '', pod_name: 'akkeris/event', container_name: 'api', labels: { name: '' }, host: '' },
  topic: 'space',
  tag: '',
});

/** A POST /log-events body for `appName` in `space`, timed now. */
export const eventFor = (appName: string, space: string, log: string, extra: Record<string, unknown> = {}) => ({
  ...logEventBody(),
  log,
  time: new Date().toISOString(),
  kubernetes: { namespace_name: space, pod_id: '', pod_name: 'akkeris/event', container_name: appName, labels: { name: '' }, host: '' },
  topic: space,
  ...extra,
});
