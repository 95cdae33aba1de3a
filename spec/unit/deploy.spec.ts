/**
 * The deployment files (deploy/kubernetes, Dockerfile, docker-compose.yml) against the Kubernetes
 * API schemas that npm's kubernetes-models ships, against each other, and against what logway
 * really reads (lib/config.ts), serves (routes/health.ts) and documents (the README table).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { Deployment, IDeployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler, IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { IPodDisruptionBudget, PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, IConfigMap, ISecret, IService, IServiceAccount, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { ConfigError, loadConfig } from '../../lib/config';
import { Core } from '../../lib/core';
import { DependencyTracker } from '../../lib/dependencies';
import { createLogger } from '../../lib/logger';
import { healthRouter } from '../../routes/health';

const ROOT = path.resolve(__dirname, '..', '..');
const K8S_DIR = path.join(ROOT, 'deploy', 'kubernetes');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');

/** Settings that must only ever come from a Secret. */
const SECRET_VARS = ['API_KEYS', 'SESSION_SECRET', 'JWT_SECRET', 'DATABASE_URL', 'INFLUX_TOKEN', 'METRICS_TOKEN'];

/** A model class per apiVersion/kind: a manifest of a kind not listed here fails, so none escapes validation. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

type Manifest = { apiVersion: string; kind: string; metadata: { name: string } };
type Kinds = {
  ConfigMap: IConfigMap;
  Deployment: IDeployment;
  HorizontalPodAutoscaler: IHorizontalPodAutoscaler;
  PodDisruptionBudget: IPodDisruptionBudget;
  Secret: ISecret;
  Service: IService;
  ServiceAccount: IServiceAccount;
};

function loadManifests(): { file: string; doc: Manifest }[] {
  const out: { file: string; doc: Manifest }[] = [];
  for (const file of fs
    .readdirSync(K8S_DIR)
    .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
    .sort()) {
    for (const d of parseAllDocuments(fs.readFileSync(path.join(K8S_DIR, file), 'utf8'))) {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
      const doc = d.toJS() as Manifest | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

const manifests = loadManifests();
/** The one manifest of a kind, typed by the model package's interface (the schema test validates it). */
function only<K extends keyof Kinds>(kind: K): Kinds[K] {
  const found = manifests.filter((m) => m.doc.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0].doc as unknown as Kinds[K];
}
const deployment = only('Deployment');
const configMap = only('ConfigMap');
const configData = configMap.data ?? {};
const secret = only('Secret');
const podTemplate = deployment.spec!.template;
const podSpec = podTemplate.spec!;
const container = podSpec.containers.find((c) => c.name === 'logway')!;
const envList = container.env ?? [];

/**
 * The environment variables loadConfig reads, recorded by reading them through a Proxy: the truth,
 * not a guess from the source. Two runs (empty development env, full production env) so a read
 * behind a condition is seen too.
 */
function namesLoadConfigReads(): Set<string> {
  const seen = new Set<string>();
  const recording = (base: Record<string, string>) =>
    new Proxy(base, {
      get(target, key) {
        if (typeof key === 'string') seen.add(key);
        return target[key as string];
      },
    });
  loadConfig(recording({}));
  loadConfig(recording({ NODE_ENV: 'production', ...generatedSecrets(), JWT_SECRET: 'j'.repeat(40), JWT_PUBLIC_KEY: 'k' }));
  return seen;
}

function generatedSecrets(): Record<string, string> {
  return {
    API_KEYS: crypto.randomBytes(32).toString('hex'),
    SESSION_SECRET: crypto.randomBytes(32).toString('hex'),
    METRICS_TOKEN: crypto.randomBytes(32).toString('hex'),
  };
}

const CONFIG_VARS = namesLoadConfigReads();

/** Every variable in the README's configuration table (the first cell of each row, backticked). */
function readmeConfigVars(): Set<string> {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Configuration\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  const names = new Set<string>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| `'))) {
    const firstCell = line.split('|')[1];
    for (const m of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(m[1]);
  }
  return names;
}

/** Dockerfile instructions of the final stage, continuation lines joined. */
function dockerfileFinalStage(): { instr: string; args: string }[] {
  const joined = read('Dockerfile').replace(/\\\n/g, ' ');
  const lines = joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const lastFrom = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  return lines.slice(lastFrom).map((l) => {
    const m = /^(\w+)\s+(.*)$/.exec(l)!;
    return { instr: m[1].toUpperCase(), args: m[2] };
  });
}

function dockerfileEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of dockerfileFinalStage().filter((i) => i.instr === 'ENV')) {
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return env;
}

interface ComposeService {
  image?: string;
  build?: string | { context: string };
  environment?: Record<string, string | number | boolean> | string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
}

function compose(): { services: Record<string, ComposeService> } {
  return parseYaml(read('docker-compose.yml'));
}

function composeLogwayEnv(): Record<string, string> {
  const env = compose().services.logway.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e) => [e.split('=')[0], e.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** The value a named or numbered port refers to in the logway container. */
function containerPort(port: string | number | undefined): number {
  if (typeof port === 'number') return port;
  const p = (container.ports ?? []).find((x) => x.name === port);
  if (!p) throw new Error(`no container port named ${port}`);
  return p.containerPort;
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || !labels) return false;
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
}

describe('the configuration table', () => {
  it('finds the variables loadConfig reads', () => {
    // Guards the recorder itself: these are read on every start.
    for (const v of ['PORT', 'API_KEYS', 'SESSION_SECRET', 'KAFKA_BROKERS', 'DATABASE_URL', 'NODE_ENV', 'MAX_SINCE_SECONDS']) expect(CONFIG_VARS).toContain(v);
  });

  it('lists exactly the variables lib/config.ts reads, no more, no fewer', () => {
    const documented = readmeConfigVars();
    expect([...documented].filter((v) => !CONFIG_VARS.has(v)).sort()).toEqual([]);
    expect([...CONFIG_VARS].filter((v) => !documented.has(v)).sort()).toEqual([]);
  });
});

describe('deploy/kubernetes', () => {
  it('holds the objects a platform team needs', () => {
    const kinds = manifests.map((m) => m.doc.kind).sort();
    expect(kinds).toEqual(['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount']);
  });

  it.each(manifests.map((m) => [`${m.file}: ${m.doc.kind}`, m.doc] as const))('%s validates against its Kubernetes API schema', (_name, doc) => {
    const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
    expect(Model).toBeDefined();
    expect(() => new Model(doc as never).validate()).not.toThrow();
  });

  it('the schema check is real: a wrong type is refused', () => {
    const broken = structuredClone(deployment) as unknown as { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort/);
  });

  it('the kustomization lists every manifest except the example Secret', () => {
    const k = parseYaml(fs.readFileSync(path.join(K8S_DIR, 'kustomization.yaml'), 'utf8'));
    expect(k.kind).toBe('Kustomization');
    const files = [...new Set(manifests.map((m) => m.file))].filter((f) => f !== 'secret.example.yaml').sort();
    expect([...k.resources].sort()).toEqual(files);
    const secretFile = manifests.find((m) => m.doc.kind === 'Secret')!.file;
    expect(secretFile).toBe('secret.example.yaml');
  });

  it('the Deployment selects its own pods, and the Service, PDB and HPA point at them', () => {
    const podLabels = podTemplate.metadata?.labels;
    expect(matches(deployment.spec?.selector.matchLabels, podLabels)).toBe(true);
    const service = only('Service');
    expect(matches(service.spec?.selector, podLabels)).toBe(true);
    expect(service.spec?.sessionAffinity ?? 'None').toBe('None');
    expect((service.spec?.ports ?? []).map((p) => containerPort(p.targetPort))).toEqual([containerPort('http')]);
    const pdb = only('PodDisruptionBudget');
    expect(matches(pdb.spec?.selector?.matchLabels, podLabels)).toBe(true);
    const hpa = only('HorizontalPodAutoscaler');
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata?.name });
    expect((hpa.spec?.metrics ?? []).map((m) => m.resource?.name)).toContain('cpu');
    // The PDB must leave a node to serve while one is evicted.
    expect(hpa.spec?.minReplicas).toBeGreaterThan(Number(pdb.spec?.maxUnavailable));
    expect(podSpec.serviceAccountName).toBe(only('ServiceAccount').metadata?.name);
  });

  it('every variable the pods get is one lib/config.ts reads, and the configuration it makes starts in production', () => {
    const fromConfigMap = (container.envFrom ?? []).map((e) => {
      expect(e.configMapRef?.name).toBe(configMap.metadata?.name);
      return Object.keys(configData);
    });
    const names = [...envList.map((e) => e.name), ...fromConfigMap.flat()];
    expect(names.filter((n) => !CONFIG_VARS.has(n))).toEqual([]);
    expect(envList.find((e) => e.name === 'NODE_ENV')?.value).toBe('production');
    // The ConfigMap's values pass lib/config.ts's validation under NODE_ENV=production.
    const env: Record<string, string> = {
      ...configData,
      NODE_ENV: 'production',
      ...generatedSecrets(),
      DATABASE_URL: 'postgres://logway:pw@postgresql:5432/logway',
    };
    const config = loadConfig(env);
    expect(config.production).toBe(true);
    expect(config.warnings).toEqual([]);
    expect(config.port).toBe(containerPort('http'));
  });

  it('names no unknown variable even in comments', () => {
    for (const file of fs.readdirSync(K8S_DIR)) {
      const text = fs.readFileSync(path.join(K8S_DIR, file), 'utf8');
      const tokens = [...text.matchAll(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g)].map((m) => m[0]);
      expect({ file, unknown: tokens.filter((t) => !CONFIG_VARS.has(t)) }).toEqual({ file, unknown: [] });
    }
  });

  it('secrets come from secretKeyRef into the Secret, never from a literal or the ConfigMap', () => {
    expect(Object.keys(configData).filter((k) => SECRET_VARS.includes(k))).toEqual([]);
    const secretKeys = Object.keys({ ...secret.data, ...secret.stringData });
    for (const name of SECRET_VARS) {
      const e = envList.find((x) => x.name === name);
      expect({ name, value: e?.value }).toEqual({ name, value: undefined });
      expect(e?.valueFrom?.secretKeyRef?.name).toBe(secret.metadata?.name);
      expect(secretKeys).toContain(e?.valueFrom?.secretKeyRef?.key);
    }
    // Required settings are not optional refs: a missing key keeps the pod from starting.
    for (const name of ['API_KEYS', 'SESSION_SECRET', 'DATABASE_URL', 'METRICS_TOKEN']) {
      expect(envList.find((x) => x.name === name)?.valueFrom?.secretKeyRef?.optional ?? false).toBe(false);
    }
  });

  it('the example Secret holds placeholders that a production node refuses', () => {
    const placeholders = secret.stringData ?? {};
    expect(Object.keys(placeholders).length).toBeGreaterThan(0);
    expect(Object.values(placeholders).every((v) => v.includes('PLACEHOLDER'))).toBe(true);
    const env = { ...configData, NODE_ENV: 'production', ...placeholders };
    expect(() => loadConfig(env)).toThrow(ConfigError);
  });

  it('probes point at logway routes on the container port, readiness waiting longer than the dependency checks', () => {
    const readyTimeoutMs = loadConfig({ ...configData }).readyTimeoutMs;
    expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
    expect(container.startupProbe?.httpGet?.path).toBe('/health/live');
    expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      expect(containerPort(probe?.httpGet?.port)).toBe(Number(configData.PORT));
    }
    // Dependencies are checked in parallel, then the migrations query: two timeouts at most.
    expect(Number(container.readinessProbe?.timeoutSeconds) * 1000).toBeGreaterThan(2 * readyTimeoutMs);
    expect(annotations().port).toBe(containerPort('http'));
    expect(annotations().path).toBe('/metrics');
  });

  it('the probes mean what the manifest says on the real health router', async () => {
    const up = () => Promise.resolve();
    const down = () => Promise.reject(new Error('ECONNREFUSED'));
    const app = (kafka: () => Promise<void>, others: () => Promise<void>) => {
      const logger = createLogger('silent');
      const core = {
        config: { readyTimeoutMs: 200 },
        logger,
        dependencies: new DependencyTracker(logger),
        kafka: { ping: kafka },
        influx: { ping: others },
        db: { ping: others },
      } as unknown as Core;
      return express().use(healthRouter(core));
    };
    const allDown = app(down, down);
    // Liveness never depends on a dependency: a Kafka outage must not restart every pod.
    const live = container.livenessProbe?.httpGet?.path ?? '';
    const ready = container.readinessProbe?.httpGet?.path ?? '';
    expect((await request(allDown).get(live)).status).toBe(200);
    expect((await request(allDown).get(ready)).status).toBe(503);
    // PostgreSQL and InfluxDB down: still ready (DEGRADED), the Service keeps its endpoints.
    const degraded = await request(app(up, down)).get(ready);
    expect(degraded.status).toBe(200);
    expect(degraded.body.state).toBe('DEGRADED');
    expect((await request(app(up, down)).get(annotations().path)).status).not.toBe(404);
  });

  it('terminates gracefully: preStop sleep first, then room for logway to stop', () => {
    const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(preStop[0]).toBe('sleep');
    const sleepSeconds = Number(preStop[1]);
    expect(sleepSeconds).toBeGreaterThan(0);
    // logway's stop: drains settle up to 5 s, streams end within 2 s, 5 s before connections are
    // forced closed, then the clients (lib/server.ts, drains/worker.ts): 20 s covers it with room.
    expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleepSeconds + 20);
  });

  it('runs locked down: non-root, read-only root filesystem, no capabilities, bounded resources', () => {
    expect(podSpec.securityContext?.runAsNonRoot).toBe(true);
    expect(podSpec.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(podSpec.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources?.limits).toMatchObject({ memory: expect.any(String) });
    // V8's heap cap must sit well under the memory limit (buffers and sockets live outside it).
    const heapFlag = (container.command ?? []).find((a) => a.startsWith('--max-old-space-size='));
    expect(heapFlag).toBeDefined();
    const heapMiB = Number(heapFlag!.split('=')[1]);
    expect(heapMiB).toBeLessThanOrEqual(0.75 * mebibytes(String(container.resources?.limits?.memory)));
    expect(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
  });
});

/** A Kubernetes memory quantity (Mi, Gi, M, G or bytes) in MiB. */
function mebibytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(q);
  if (!m) throw new Error(`unsupported memory quantity ${q}`);
  const unit: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9, '': 1 };
  return (Number(m[1]) * unit[m[2] ?? '']) / 1024 ** 2;
}

/** The Prometheus annotations of the pod template. */
function annotations(): { path: string; port: number } {
  const a = podTemplate.metadata?.annotations ?? {};
  return { path: a['prometheus.io/path'], port: Number(a['prometheus.io/port']) };
}

describe('Dockerfile', () => {
  const stage = dockerfileFinalStage();
  const args = (instr: string) => stage.filter((i) => i.instr === instr).map((i) => i.args);

  it('builds the image the Deployment runs: node dist/bin/server.js, the package version as tag', () => {
    const cmd: string[] = JSON.parse(args('CMD')[0]);
    expect(cmd).toEqual(['node', 'dist/bin/server.js']);
    expect(fs.existsSync(path.join(ROOT, 'bin', 'server.ts'))).toBe(true);
    // The Deployment runs the same program, only adding node flags (exec form: SIGTERM reaches node).
    const command = container.command ?? cmd;
    expect([command[0], command.at(-1)]).toEqual(cmd);
    expect(command.slice(1, -1).every((a) => a.startsWith('--'))).toBe(true);
    expect(container.image).toBe(`logway:${JSON.parse(read('package.json')).version}`);
  });

  it('runs as the numeric non-root user the pod security context names', () => {
    const user = args('USER').at(-1)!;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBe(podSpec.securityContext?.runAsUser);
  });

  it('sets only variables lib/config.ts reads, with production defaults and the container port', () => {
    const env = dockerfileEnv();
    expect(Object.keys(env).filter((n) => !CONFIG_VARS.has(n))).toEqual([]);
    expect(env.NODE_ENV).toBe('production');
    expect(Number(env.PORT)).toBe(containerPort('http'));
    expect(args('EXPOSE').map(Number)).toEqual([containerPort('http')]);
    expect(args('HEALTHCHECK').join(' ')).toContain('/health/live');
  });
});

describe('docker-compose.yml', () => {
  it('is YAML whose services all have an image or a build and depend on services that exist', () => {
    const services = compose().services;
    for (const [name, s] of Object.entries(services)) {
      expect({ name, runnable: Boolean(s.image || s.build) }).toEqual({ name, runnable: true });
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const dep of deps) expect(Object.keys(services)).toContain(dep);
    }
    expect(services.logway.build).toBe('.');
  });

  it('gives logway only variables lib/config.ts reads', () => {
    expect(Object.keys(composeLogwayEnv()).filter((n) => !CONFIG_VARS.has(n))).toEqual([]);
  });

  it("starts: the image's environment plus compose's passes lib/config.ts (development stack, so warnings)", () => {
    const env = { ...dockerfileEnv(), ...composeLogwayEnv() };
    const config = loadConfig(env);
    expect(config.production).toBe(false);
    expect(config.warnings.length).toBeGreaterThan(0);
    const published = (compose().services.logway.ports ?? []).map((p) => Number(p.split(':').at(-1)));
    expect(published).toContain(config.port);
    expect(config.kafkaBrokers.every((b) => Object.keys(compose().services).includes(b.split(':')[0]))).toBe(true);
  });
});
