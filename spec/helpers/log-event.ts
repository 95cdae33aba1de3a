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
