/**
 * deploy/ and the Dockerfile: the Helm chart rendered (tools/chart-render.ts) and every object
 * validated strictly against the Kubernetes schemas (test/helpers/k8s.ts), the KServe objects,
 * the Grafana dashboard's metrics against what a real server exports, and the image's
 * HEALTHCHECK and pruning script run for real. Building the image itself needs a container
 * engine: docs/deployment.md says how it was built and run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { mergeValues, renderChart, renderTemplate, type ChartContext } from '../../tools/chart-render.ts';
import { validateContainer, validateMetadata, validateObject, validateVolume } from '../helpers/k8s.ts';
import { ROOT, repositoryOf, startTestServer, type TestServer } from '../helpers/server.ts';
import { parseCliOptions } from '../../src/cli/cli-options.ts';
import { createMetricsRegistry } from '../../src/api/metrics/metrics-server.ts';
import { ModelRegistry } from '../../src/repository/index.ts';
import { DEFAULT_METRICS_OPTIONS } from '../../src/cli/observability-options.ts';
import type { SystemMonitor } from '../../src/observability/index.ts';

const run = promisify(execFile);
const CHART = path.join(ROOT, 'deploy', 'helm', 'nereid');
const guard = { timeout: 60_000 };

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const byKind = (objects: Obj[], kind: string): Obj[] => objects.filter((o) => o.kind === kind);
const one = (objects: Obj[], kind: string): Obj => {
  const found = byKind(objects, kind);
  assert.equal(found.length, 1, `one ${kind} in ${objects.map((o) => o.kind).join(', ')}`);
  return found[0];
};

/** Every object of a rendering validates strictly. */
function assertValid(objects: Obj[]): void {
  assert.deepEqual(objects.flatMap((o) => validateObject(o)), []);
}

/** The metric family names of a Prometheus text scrape. */
const families = (text: string): Set<string> => new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));

let server: TestServer;
let exported: Set<string>;
before(async () => {
  server = await startTestServer([`--model-repository=${repositoryOf('simple')}`]);
  exported = families(await (await fetch(`http://127.0.0.1:${server.server.metricsPort}/metrics`)).text());
});
after(() => server.close());

describe('the chart renderer (the Go template subset)', () => {
  const context: ChartContext = {
    Values: { on: true, off: false, n: 3, list: ['a', 'b'], map: { k: 'v' }, empty: {}, name: '' },
    Release: { Name: 'rel', Namespace: 'ns' },
    Chart: { Name: 'chart', Version: '1.0.0', AppVersion: '2.0.0' },
  };
  const render = (t: string) => renderTemplate(t, context);

  test('fields, trimming, if / else if / else, range, with, comments', () => {
    assert.equal(render('a: {{ .Release.Name }}-{{ $.Chart.AppVersion }}'), 'a: rel-2.0.0');
    assert.equal(render('x\n  {{- if .Values.off }}A{{ else if .Values.on }}B{{ else }}C{{ end -}}\n  y'), 'xBy');
    assert.equal(render('{{ if .Values.empty }}A{{ else }}C{{ end }}'), 'C');
    assert.equal(render('{{- range .Values.list }}\n- {{ . | quote }}\n{{- end }}'), '\n- "a"\n- "b"');
    assert.equal(render('{{ with .Values.map }}{{ .k }}{{ end }}{{ with .Values.empty }}no{{ end }}'), 'v');
    assert.equal(render('{{/* a comment */}}z'), 'z');
  });

  test("functions, with the piped value as the last argument", () => {
    assert.equal(render('{{ .Values.name | default .Chart.AppVersion }} {{ .Values.n | default 7 }}'), '2.0.0 3');
    assert.equal(render('{{ add .Values.n 4 5 }}'), '12');
    assert.equal(render('{{ not .Values.on }} {{ and .Values.on .Values.n }} {{ or .Values.off .Values.name }} {{ eq .Values.n 3 }}'), 'false true false true');
    assert.equal(render('m:{{- toYaml .Values.map | nindent 2 }}'), 'm:\n  k: v');
    assert.equal(render('{{ toYaml .Values.list | indent 4 }}'), '    - a\n    - b');
    assert.throws(() => render('{{ required "name is required" .Values.name }}'), /name is required/);
  });

  test('refuses what is outside the subset rather than rendering it wrongly', () => {
    assert.throws(() => render('{{ include "x" . }}'), /outside the template subset/);
    assert.throws(() => render('{{ $x := 1 }}'), /outside the template subset/);
    assert.throws(() => render('{{ printf "%d" 1 }}'), /not a function of the subset/);
    assert.throws(() => render('{{ .Values.map }}'), /printed without toYaml/);
    assert.throws(() => render('{{ if .Values.on }}open'), /unexpected|end/);
  });

  test('merges values as helm --set does: maps deep, everything else replaced', () => {
    assert.deepEqual(mergeValues({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2] }, e: 2 }), { a: { b: 1, c: [2] }, d: 1, e: 2 });
  });
});

describe('the strict Kubernetes validation', () => {
  test('reports wrong types, missing required fields, unknown fields and unknown kinds', () => {
    const deployment = (): Obj => one(renderChart(CHART), 'Deployment');
    const misspelt = deployment();
    misspelt.spec.template.spec.containers[0].readinesProbe = misspelt.spec.template.spec.containers[0].readinessProbe;
    assert.deepEqual(validateObject(misspelt), ['apps/v1/Deployment nereid: unknown field spec.template.spec.containers[0].readinesProbe']);
    const wrongType = deployment();
    wrongType.spec.template.spec.containers[0].ports[0].containerPort = '8000';
    assert.match(validateObject(wrongType).join(), /containerPort must be integer/);
    const missing = deployment();
    delete missing.spec.selector;
    assert.match(validateObject(missing).join(), /must have required property 'selector'|selector/);
    assert.deepEqual(validateObject({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' } }), ['example.com/v1/Thing t: no schema for example.com/v1/Thing']);
    assert.deepEqual(validateContainer({ name: 'c', image: 'i', env: [{ name: 'A', valu: '1' }] }, 'c'), ['c: unknown field env[0].valu']);
  });
});

describe('the Helm chart', () => {
  test('renders, by default, a Deployment, Service, claim and disruption budget that validate strictly', guard, () => {
    const objects = renderChart(CHART);
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['Deployment', 'PersistentVolumeClaim', 'PodDisruptionBudget', 'Service']);
    assertValid(objects);
  });

  test('renders every option (autoscaling, monitors, scheduling, volumes) into objects that validate strictly', guard, () => {
    const everything = {
      autoscaling: { enabled: true },
      podMonitor: { enabled: true, labels: { release: 'prometheus' } },
      serviceMonitor: { enabled: true },
      extraArgs: ['--strict-model-config=true', '--metrics-config=summary_latencies=true'],
      podAnnotations: { 'example.com/a': 'b' },
      nodeSelector: { 'kubernetes.io/arch': 'amd64' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'inference', effect: 'NoSchedule' }],
      affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'nereid' } } } }] } },
      modelRepository: { existingClaim: 'models', persistence: { storageClass: 'fast' } },
    };
    const objects = renderChart(CHART, everything);
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'PodMonitor', 'Service', 'ServiceMonitor']);
    assertValid(objects);
    assertValid(renderChart(CHART, { modelRepository: { volume: { nfs: { server: 'nfs.example.com', path: '/models', readOnly: true } } } }));
    assertValid(renderChart(CHART, { modelRepository: { persistence: { storageClass: 'fast', accessModes: ['ReadOnlyMany'] } }, service: { type: 'LoadBalancer' } }));
  });

  test('the container runs flags the server accepts, on the ports the Service and probes name', guard, () => {
    const objects = renderChart(CHART, { extraArgs: ['--log-info=false'] });
    const pod = one(objects, 'Deployment').spec.template.spec;
    const [container] = pod.containers;
    const options = parseCliOptions(container.args);
    assert.deepEqual(options.modelRepositories, ['/models']);
    assert.equal(options.log.logInfo, false);
    assert.equal(options.log.logFormat, 'json');
    const ports = Object.fromEntries(container.ports.map((p: Obj) => [p.name, p.containerPort]));
    assert.deepEqual(ports, { http: options.httpPort, grpc: options.grpcPort, metrics: options.metricsPort });
    assert.deepEqual([options.httpPort, options.grpcPort, options.metricsPort], [8000, 8001, 8002]);
    const service = one(objects, 'Service');
    assert.deepEqual(service.spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort]), [['http', 8000, 'http'], ['grpc', 8001, 'grpc'], ['metrics', 8002, 'metrics']]);
    assert.deepEqual(service.spec.selector, one(objects, 'Deployment').spec.template.metadata.labels);
    assert.deepEqual(one(objects, 'PodDisruptionBudget').spec.selector.matchLabels, service.spec.selector);
    assert.equal(container.livenessProbe.httpGet.path, '/v2/health/live');
    assert.equal(container.readinessProbe.httpGet.path, '/v2/health/ready');
    assert.equal(container.startupProbe.grpc.port, options.grpcPort);
    assert.equal(container.volumeMounts[0].mountPath, '/models');
    assert.equal(pod.volumes[0].persistentVolumeClaim.claimName, one(objects, 'PersistentVolumeClaim').metadata.name);
  });

  test('gives the pod its pre-stop sleep plus --exit-timeout-secs plus a margin to stop', guard, () => {
    for (const [exitTimeoutSecs, preStopSleepSeconds] of [[30, 5], [120, 10]]) {
      const pod = one(renderChart(CHART, { exitTimeoutSecs, preStopSleepSeconds }), 'Deployment').spec.template.spec;
      const [container] = pod.containers;
      assert.equal(parseCliOptions(container.args).exitTimeoutSecs, exitTimeoutSecs);
      assert.deepEqual(container.lifecycle.preStop.exec.command, ['sleep', String(preStopSleepSeconds)]);
      assert.equal(pod.terminationGracePeriodSeconds, preStopSleepSeconds + exitTimeoutSecs + 5);
    }
  });

  test('autoscales on a metric the server exports, and leaves the replica count to the autoscaler', guard, () => {
    const objects = renderChart(CHART, { autoscaling: { enabled: true } });
    const hpa = one(objects, 'HorizontalPodAutoscaler');
    const metric = hpa.spec.metrics[0].pods.metric.name;
    assert.ok(exported.has(metric), `${metric} among ${[...exported].join(', ')}`);
    assert.equal(hpa.spec.scaleTargetRef.name, one(objects, 'Deployment').metadata.name);
    assert.equal(one(objects, 'Deployment').spec.replicas, undefined);
    assert.equal(one(renderChart(CHART), 'Deployment').spec.replicas, 2);
  });

  test('scrapes the container port that serves /metrics', guard, () => {
    const objects = renderChart(CHART, { podMonitor: { enabled: true }, serviceMonitor: { enabled: true } });
    const portNames = one(objects, 'Deployment').spec.template.spec.containers[0].ports.map((p: Obj) => p.name);
    assert.ok(portNames.includes(one(objects, 'PodMonitor').spec.podMetricsEndpoints[0].port));
    assert.ok(one(objects, 'Service').spec.ports.some((p: Obj) => p.name === one(objects, 'ServiceMonitor').spec.endpoints[0].port));
  });

  test('runs as the image’s non-root user', guard, () => {
    const pod = one(renderChart(CHART), 'Deployment').spec.template.spec;
    const user = /^USER (\d+):(\d+)$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    assert.ok(user);
    assert.equal(pod.securityContext.runAsUser, Number(user[1]));
    assert.equal(pod.securityContext.runAsNonRoot, true);
  });
});

describe('the KServe examples', () => {
  const read = (file: string): Obj => YAML.parse(readFileSync(path.join(ROOT, 'deploy', 'kserve', file), 'utf8')) as Obj;
  const runtime = read('servingruntime.yaml');
  const services = ['inferenceservice-v2.yaml', 'inferenceservice-grpc-v2.yaml'].map(read);

  // Fields of KServe's ServingRuntimeSpec and SupportedModelFormat (serving.kserve.io/v1alpha1),
  // and the InferenceService fields these examples use (v1beta1): the KServe CRDs are not in an
  // npm package, so these lists stand in for their schemas; the pod parts are checked against
  // the Kubernetes schemas.
  const RUNTIME_SPEC = ['supportedModelFormats', 'multiModel', 'disabled', 'protocolVersions', 'workerSpec', 'containers', 'volumes', 'nodeSelector', 'affinity', 'tolerations', 'labels', 'annotations', 'imagePullSecrets', 'hostIPC', 'grpcEndpoint', 'grpcDataEndpoint', 'httpDataEndpoint', 'replicas', 'storageHelper', 'builtInAdapter'];
  const MODEL_FORMAT = ['name', 'version', 'autoSelect', 'priority'];
  const PROTOCOLS = ['v1', 'v2', 'grpc-v1', 'grpc-v2'];
  const PREDICTOR = ['model', 'minReplicas', 'maxReplicas', 'scaleTarget', 'scaleMetric', 'containerConcurrency', 'timeout', 'serviceAccountName'];
  const unknown = (obj: Obj, known: string[], at: string) => Object.keys(obj).filter((k) => !known.includes(k)).map((k) => `${at}: unknown field ${k}`);

  test('the ServingRuntime has only KServe fields, Kubernetes-valid containers, and flags the server accepts', () => {
    assert.equal(runtime.apiVersion, 'serving.kserve.io/v1alpha1');
    assert.equal(runtime.kind, 'ServingRuntime');
    const spec = runtime.spec;
    const errors = [
      ...validateMetadata(runtime.metadata, 'metadata'),
      ...unknown(spec, RUNTIME_SPEC, 'spec'),
      ...spec.supportedModelFormats.flatMap((f: Obj, i: number) => unknown(f, MODEL_FORMAT, `supportedModelFormats[${i}]`)),
      ...spec.containers.flatMap((c: Obj, i: number) => validateContainer(c, `containers[${i}]`)),
      ...(spec.volumes ?? []).flatMap((v: Obj, i: number) => validateVolume(v, `volumes[${i}]`)),
    ];
    assert.deepEqual(errors, []);
    assert.deepEqual(spec.protocolVersions.filter((p: string) => !PROTOCOLS.includes(p)), []);
    assert.deepEqual([...spec.protocolVersions].sort(), ['grpc-v2', 'v2']);
    const [container] = spec.containers;
    assert.equal(container.name, 'kserve-container');
    const options = parseCliOptions(container.args);
    // KServe's ports: REST on 8080, gRPC on 9000; the model is unpacked at /mnt/models.
    assert.deepEqual([options.httpPort, options.grpcPort, options.modelRepositories[0]], [8080, 9000, '/mnt/models']);
    assert.equal(container.readinessProbe.httpGet.port, options.httpPort);
    assert.equal(spec.annotations['prometheus.kserve.io/port'], String(options.metricsPort));
  });

  test('the InferenceServices use the runtime over v2 and grpc-v2, gRPC on its h2c port', () => {
    const options = parseCliOptions(runtime.spec.containers[0].args);
    for (const isvc of services) {
      assert.equal(isvc.apiVersion, 'serving.kserve.io/v1beta1');
      assert.equal(isvc.kind, 'InferenceService');
      const { predictor } = isvc.spec;
      // A ModelSpec is KServe's four fields and a core/v1 Container's.
      const { modelFormat, runtime: name, protocolVersion, storageUri, ...container } = predictor.model;
      assert.deepEqual([
        ...validateMetadata(isvc.metadata, 'metadata'),
        ...unknown(isvc.spec, ['predictor'], 'spec'),
        ...unknown(predictor, PREDICTOR, 'predictor'),
        ...unknown(modelFormat, ['name', 'version'], 'modelFormat'),
        ...validateContainer({ name: 'kserve-container', ...container }, 'model'),
      ], []);
      assert.equal(name, runtime.metadata.name);
      assert.ok(runtime.spec.supportedModelFormats.some((f: Obj) => f.name === modelFormat.name));
      assert.ok(runtime.spec.protocolVersions.includes(protocolVersion));
      assert.match(storageUri, /^[a-z0-9]+:\/\/\S+$/);
    }
    assert.deepEqual(services.map((s) => s.spec.predictor.model.protocolVersion), ['v2', 'grpc-v2']);
    const h2c = services[1].spec.predictor.model.ports.find((p: Obj) => p.name === 'h2c');
    assert.equal(h2c.containerPort, options.grpcPort);
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy', 'grafana', 'nereid-dashboard.json'), 'utf8')) as Obj;
  const panels: Obj[] = dashboard.panels.filter((p: Obj) => p.type !== 'row');
  const queried = new Set(panels.flatMap((p) => p.targets.flatMap((t: Obj) => [...String(t.expr).matchAll(/\bnv_[a-z_]+/g)].map((m) => m[0]))));

  test('queries only metrics Nereid exports (GPU gauges: those registered where there are GPUs)', () => {
    // The GPU gauges exist only on a host with NVIDIA GPUs: registered here from one reading.
    const metrics = createMetricsRegistry(new ModelRegistry(), DEFAULT_METRICS_OPTIONS);
    const gpu = { index: 0, uuid: 'GPU-0', utilization: 0.5, memoryTotalBytes: 1, memoryUsedBytes: 1, powerUsageWatts: 1, powerLimitWatts: 1, energyMj: 1 };
    metrics.addSystemGauges({ cpu: null, gpus: [gpu] } as unknown as SystemMonitor, { cpu: false, gpu: true });
    const gpuFamilies = new Set(metrics.prom.getMetricsAsArray().map((m) => m.name).filter((n) => n.startsWith('nv_gpu_') || n.startsWith('nv_energy')));
    metrics.close();
    assert.ok(gpuFamilies.has('nv_gpu_utilization'));
    const missing = [...queried].filter((name) => !exported.has(name) && !gpuFamilies.has(name));
    assert.deepEqual(missing, [], `exported: ${[...exported].join(', ')}`);
    for (const name of ['nv_inference_request_success', 'nv_inference_request_failure', 'nv_inference_pending_request_count', 'nv_inference_queue_duration_us', 'nv_cpu_utilization']) {
      assert.ok(queried.has(name), `the dashboard shows ${name}`);
    }
  });

  test('is a dashboard Grafana can import: unique panel ids, a Prometheus datasource variable, laid out panels', () => {
    const ids = dashboard.panels.map((p: Obj) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(dashboard.templating.list.some((v: Obj) => v.type === 'datasource' && v.query === 'prometheus'));
    for (const p of panels) {
      assert.equal(p.datasource.uid, '${datasource}');
      assert.ok(p.gridPos.w > 0 && p.gridPos.h > 0 && p.gridPos.x + p.gridPos.w <= 24, p.title);
      assert.ok(p.targets.length > 0, p.title);
    }
  });
});

describe('the container image', () => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const finalStage = instructions.slice(instructions.map((l) => l.startsWith('FROM ')).lastIndexOf(true));

  test('builds in stages, installs production dependencies only, prunes onnxruntime, runs as non-root', () => {
    assert.equal(instructions.filter((l) => l.startsWith('FROM ')).length, 3);
    assert.match(dockerfile, /^ARG NODE_IMAGE=node:20-[a-z]+-slim$/m);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /ONNXRUNTIME_NODE_INSTALL=skip/);
    assert.match(dockerfile, /prune-onnxruntime\.sh node_modules\/onnxruntime-node\/bin/);
    const user = finalStage.find((l) => l.startsWith('USER '));
    assert.ok(user && !/\b0\b|root/.test(user), user);
    assert.ok(finalStage.some((l) => l === 'EXPOSE 8000 8001 8002'));
    assert.ok(!finalStage.some((l) => /^COPY (src|test|bench|tools)\b/.test(l)), 'no sources or tests in the image');
  });

  test('copies only files that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    const sources = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    assert.ok(sources.length > 0);
    for (const src of sources) {
      assert.ok(existsSync(path.join(ROOT, src)), `${src} exists`);
      assert.ok(!ignored.some((i) => src === i || src.startsWith(`${i}/`)), `${src} is not ignored`);
    }
  });

  test("HEALTHCHECK's command passes against a ready server and fails where none listens", guard, async () => {
    const line = instructions.find((l) => l.startsWith('HEALTHCHECK '));
    assert.ok(line);
    const command = JSON.parse(line.slice(line.indexOf('CMD ') + 4)) as string[];
    assert.equal(command[0], 'node');
    assert.match(command.join(' '), /\/v2\/health\/ready/);
    const at = (port: number) => command.slice(1).map((a) => a.replace('127.0.0.1:8000', `127.0.0.1:${port}`));
    await run(process.execPath, at(server.server.httpPort!));
    const closed = await startTestServer([`--model-repository=${repositoryOf('simple')}`]);
    const port = closed.server.httpPort!;
    await closed.close();
    await assert.rejects(run(process.execPath, at(port)), (err: { code?: number }) => err.code === 1);
  });

  test('the pruning script keeps linux/<arch> only, and fails when nothing for it is left', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nereid-prune-'));
    try {
      const tree = ['darwin/arm64', 'linux/x64', 'linux/arm64', 'win32/x64'];
      for (const p of tree) {
        mkdirSync(path.join(dir, 'napi-v6', p), { recursive: true });
        writeFileSync(path.join(dir, 'napi-v6', p, 'onnxruntime_binding.node'), '');
      }
      const script = path.join(ROOT, 'deploy', 'docker', 'prune-onnxruntime.sh');
      const { stdout } = await run('sh', [script, dir, 'arm64']);
      assert.match(stdout, /kept linux\/arm64/);
      assert.deepEqual(readdirSync(path.join(dir, 'napi-v6')), ['linux']);
      assert.deepEqual(readdirSync(path.join(dir, 'napi-v6', 'linux')), ['arm64']);
      await assert.rejects(run('sh', [script, dir, 'x64']), /no onnxruntime binding left for linux\/x64/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
