/**
 * Validation of Kubernetes objects against the Kubernetes schemas, offline: the validators of
 * the kubernetes-models packages (the API's OpenAPI schemas compiled to functions), made strict.
 *
 * The OpenAPI schemas of Kubernetes do not forbid unknown fields (the API server prunes or
 * refuses them, as `kubectl --validate=strict` shows), so a misspelt `readinesProbe` would pass
 * the validators alone. So each object is validated through a Proxy that records every field
 * the validator reads: a compiled validator reads each field its schema knows (and lists the
 * keys of maps), so a field it never read is one the schema does not know, and is reported.
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { PodMonitor, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Container } from 'kubernetes-models/v1/Container';
import { Volume } from 'kubernetes-models/v1/Volume';

interface Validatable {
  prototype: { validate(this: unknown): void };
}

/** The models by `apiVersion/kind`. */
const MODELS: Record<string, Validatable> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

/** Wraps `value` so that reads are recorded; returns the wrapper and the unread fields' finder. */
function recording(value: unknown): { proxy: unknown; unread(): string[] } {
  const read = new WeakMap<object, Set<PropertyKey> | 'all'>();
  const proxies = new WeakMap<object, unknown>();
  const wrap = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    const existing = proxies.get(v);
    if (existing) return existing;
    const p = new Proxy(v, {
      get(target, key, receiver) {
        const seen = read.get(target);
        if (seen !== 'all') {
          const set = seen ?? new Set<PropertyKey>();
          set.add(key);
          read.set(target, set);
        }
        return wrap(Reflect.get(target, key, receiver));
      },
      ownKeys(target) {
        // A validator lists a map's keys to check each value: every key is then known.
        read.set(target, 'all');
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(v, p);
    return p;
  };
  const unread = (): string[] => {
    const out: string[] = [];
    const walk = (v: unknown, at: string) => {
      if (v === null || typeof v !== 'object') return;
      const seen = read.get(v);
      if (Array.isArray(v)) {
        v.forEach((item, i) => walk(item, `${at}[${i}]`));
        return;
      }
      for (const key of Object.keys(v)) {
        if (seen !== 'all' && !seen?.has(key)) out.push(`${at}.${key}`);
        else walk((v as Record<string, unknown>)[key], `${at}.${key}`);
      }
    };
    walk(value, '');
    return out;
  };
  return { proxy: wrap(value), unread };
}

/** Runs `check` on a recording proxy of `value`: its errors, and every field it never read. */
function strict(value: unknown, check: (proxy: unknown) => string | null, where: string): string[] {
  const { proxy, unread } = recording(value);
  const error = check(proxy);
  if (error !== null) return [`${where}: ${error}`];
  return unread().map((f) => `${where}: unknown field ${f.slice(1)}`);
}

function modelCheck(model: Validatable): (proxy: unknown) => string | null {
  return (proxy) => {
    try {
      model.prototype.validate.call(proxy);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
}

/** The errors of a Kubernetes object of a kind listed above (an unknown kind is an error). */
export function validateObject(obj: Record<string, unknown>): string[] {
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  const name = `${key} ${String((obj.metadata as { name?: string } | undefined)?.name)}`;
  const model = MODELS[key];
  if (!model) return [`${name}: no schema for ${key}`];
  return strict(obj, modelCheck(model), name);
}

/** The errors of a core/v1 Container, or of a Volume. */
export function validateContainer(container: unknown, where: string): string[] {
  return strict(container, modelCheck(Container), where);
}

export function validateVolume(volume: unknown, where: string): string[] {
  return strict(volume, modelCheck(Volume), where);
}

/** The errors of an ObjectMeta (checked as a ConfigMap's). */
export function validateMetadata(metadata: unknown, where: string): string[] {
  return strict({ apiVersion: 'v1', kind: 'ConfigMap', metadata }, modelCheck(ConfigMap), where);
}
