/**
 * A renderer for the subset of kustomize that `deploy/kubernetes` uses, so tests can
 * render both overlays without a `kustomize` binary (none is packaged for npm or Debian
 * bookworm; `kubectl kustomize`, when installed, is used to cross-check this renderer).
 *
 * Supported kustomization fields: `resources` (files and directories), `namespace`,
 * `labels` (`pairs`, `includeSelectors`, `includeTemplates`), `commonLabels`,
 * `configMapGenerator` (`files`, `literals`) with `generatorOptions.disableNameSuffixHash:
 * true`, `patches` (strategic-merge patches from `path` or `patch`, with or without a
 * `target` of kind/name), `patchesStrategicMerge`, `images` (`newName`, `newTag`).
 * Anything else throws, so the deploy tests fail instead of silently rendering something
 * kustomize would not.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'labels',
  'commonLabels',
  'configMapGenerator',
  'generatorOptions',
  'patches',
  'patchesStrategicMerge',
  'images',
]);

/** Kinds that are not namespaced (kustomize leaves their namespace alone). */
const CLUSTER_KINDS = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'CustomResourceDefinition',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every document of a YAML file (empty documents dropped). */
export function readYamlDocuments(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  return docs
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      return doc.toJS() as unknown;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

function asObject(doc: unknown, where: string): K8sObject {
  if (
    !isMap(doc) ||
    typeof doc.apiVersion !== 'string' ||
    typeof doc.kind !== 'string' ||
    !isMap(doc.metadata) ||
    typeof doc.metadata.name !== 'string'
  ) {
    throw new Error(`${where}: not a Kubernetes object with apiVersion, kind and metadata.name`);
  }
  return doc as K8sObject;
}

// ---------------------------------------------------------------------------------------
// Strategic merge patches
// ---------------------------------------------------------------------------------------

/** The merge key of a list field, as in the Kubernetes API's patchMergeKey. */
function mergeKey(field: string, items: unknown[]): string | null {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'env':
    case 'volumes':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
    case 'volumeDevices':
      return 'mountPath';
    case 'ports':
      return items.some((item) => isMap(item) && 'containerPort' in item)
        ? 'containerPort'
        : 'port';
    default:
      return null;
  }
}

export function strategicMerge(target: unknown, patch: unknown, field = ''): unknown {
  if (isMap(patch)) {
    if (patch.$patch === 'replace') {
      const { $patch: _ignored, ...rest } = patch;
      return rest;
    }
    const base: Record<string, unknown> = isMap(target) ? { ...target } : {};
    for (const [key, value] of Object.entries(patch)) {
      if (key === '$patch') continue;
      if (value === null) delete base[key];
      else base[key] = strategicMerge(base[key], value, key);
    }
    return base;
  }
  if (Array.isArray(patch) && Array.isArray(target)) {
    const patchItems: unknown[] = patch;
    const targetItems: unknown[] = target;
    const key = mergeKey(field, [...targetItems, ...patchItems]);
    if (key === null) return patch;
    const merged = [...targetItems];
    for (const item of patchItems) {
      if (!isMap(item)) return patch;
      const index = merged.findIndex((existing) => isMap(existing) && existing[key] === item[key]);
      if (item.$patch === 'delete') {
        if (index >= 0) merged.splice(index, 1);
      } else if (index >= 0) {
        merged[index] = strategicMerge(merged[index], item, field);
      } else {
        merged.push(item);
      }
    }
    return merged;
  }
  return patch;
}

// ---------------------------------------------------------------------------------------
// Transformers
// ---------------------------------------------------------------------------------------

function podSpecs(object: K8sObject): Record<string, unknown>[] {
  const spec = object.spec;
  if (!isMap(spec)) return [];
  if (object.kind === 'Pod') return [spec];
  if (object.kind === 'CronJob') {
    const jobTemplate = spec.jobTemplate;
    const template =
      isMap(jobTemplate) && isMap(jobTemplate.spec) ? jobTemplate.spec.template : null;
    return isMap(template) && isMap(template.spec) ? [template.spec] : [];
  }
  const template = spec.template;
  return isMap(template) && isMap(template.spec) ? [template.spec] : [];
}

function setNamespace(object: K8sObject, namespace: string): void {
  if (!CLUSTER_KINDS.has(object.kind)) object.metadata.namespace = namespace;
  if (object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding') {
    const subjects = Array.isArray(object.subjects) ? (object.subjects as unknown[]) : [];
    for (const subject of subjects) {
      if (isMap(subject) && subject.kind === 'ServiceAccount') subject.namespace = namespace;
    }
  }
}

function addLabels(
  object: K8sObject,
  pairs: Record<string, string>,
  options: { selectors: boolean; templates: boolean },
): void {
  object.metadata.labels = { ...object.metadata.labels, ...pairs };
  const spec = object.spec;
  if (!isMap(spec)) return;
  if (options.selectors) {
    if (object.kind === 'Service') spec.selector = { ...(spec.selector as object), ...pairs };
    else if (isMap(spec.selector)) {
      spec.selector.matchLabels = { ...(spec.selector.matchLabels as object), ...pairs };
    }
  }
  if ((options.selectors || options.templates) && isMap(spec.template)) {
    const template = spec.template;
    const metadata = isMap(template.metadata) ? template.metadata : {};
    metadata.labels = { ...(metadata.labels as object), ...pairs };
    template.metadata = metadata;
  }
}

function setImages(
  object: K8sObject,
  images: { name: string; newName?: string; newTag?: string }[],
): void {
  for (const spec of podSpecs(object)) {
    for (const field of ['containers', 'initContainers']) {
      const containers = Array.isArray(spec[field]) ? (spec[field] as unknown[]) : [];
      for (const container of containers) {
        if (!isMap(container) || typeof container.image !== 'string') continue;
        const [name = '', tag] = container.image.split(/:(?=[^/]*$)/);
        const rule = images.find((image) => image.name === name);
        if (!rule) continue;
        const newTag = rule.newTag ?? tag;
        container.image = `${rule.newName ?? name}${newTag === undefined ? '' : `:${newTag}`}`;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// The kustomization
// ---------------------------------------------------------------------------------------

interface PatchEntry {
  path?: string;
  patch?: string;
  target?: { kind?: string; name?: string };
}

function matches(object: K8sObject, target: { kind?: string; name?: string }): boolean {
  return (
    (target.kind === undefined || target.kind === object.kind) &&
    (target.name === undefined || target.name === object.metadata.name)
  );
}

function applyPatch(
  objects: K8sObject[],
  patch: unknown,
  target: { kind?: string; name?: string } | undefined,
  where: string,
): K8sObject[] {
  if (!isMap(patch)) {
    throw new Error(`${where}: only strategic-merge patches (a YAML map) are supported`);
  }
  const patchObject = asObject(patch, where);
  const selector = target ?? { kind: patchObject.kind, name: patchObject.metadata.name };
  let applied = 0;
  const result = objects.map((object) => {
    if (!matches(object, selector)) return object;
    applied += 1;
    const { metadata: _metadata, ...body } = patchObject;
    const merged = strategicMerge(object, body) as K8sObject;
    return merged;
  });
  if (applied === 0) throw new Error(`${where}: the patch matches no resource`);
  return result;
}

/** Renders the kustomization in `dir` (like `kustomize build dir`). */
export function renderKustomization(dir: string): K8sObject[] {
  const file = path.join(dir, 'kustomization.yaml');
  const [doc] = readYamlDocuments(file);
  if (!isMap(doc)) throw new Error(`${file}: not a kustomization`);
  for (const key of Object.keys(doc)) {
    if (!SUPPORTED.has(key)) {
      throw new Error(`${file}: "${key}" is not supported by this kustomize subset`);
    }
  }

  let objects: K8sObject[] = [];
  for (const entry of (doc.resources as string[] | undefined) ?? []) {
    const resource = path.resolve(dir, entry);
    if (statSync(resource).isDirectory()) objects.push(...renderKustomization(resource));
    else {
      objects.push(
        ...readYamlDocuments(resource).map((item, index) =>
          asObject(item, `${resource} document ${index + 1}`),
        ),
      );
    }
  }

  const generatorOptions = isMap(doc.generatorOptions) ? doc.generatorOptions : {};
  const generators = (doc.configMapGenerator as Record<string, unknown>[] | undefined) ?? [];
  if (generators.length > 0 && generatorOptions.disableNameSuffixHash !== true) {
    throw new Error(
      `${file}: configMapGenerator needs generatorOptions.disableNameSuffixHash: true here`,
    );
  }
  for (const generator of generators) {
    const data: Record<string, string> = {};
    for (const entry of (generator.files as string[] | undefined) ?? []) {
      const [key, source] = entry.includes('=')
        ? entry.split('=', 2)
        : [path.basename(entry), entry];
      data[key ?? ''] = readFileSync(path.resolve(dir, source ?? ''), 'utf8');
    }
    for (const literal of (generator.literals as string[] | undefined) ?? []) {
      const index = literal.indexOf('=');
      data[literal.slice(0, index)] = literal.slice(index + 1);
    }
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: String(generator.name) },
      data,
    });
  }

  for (const [index, entry] of (
    (doc.patchesStrategicMerge as string[] | undefined) ?? []
  ).entries()) {
    const patchFile = path.resolve(dir, entry);
    for (const patch of readYamlDocuments(patchFile)) {
      objects = applyPatch(objects, patch, undefined, `${file} patchesStrategicMerge[${index}]`);
    }
  }
  for (const [index, entry] of ((doc.patches as PatchEntry[] | undefined) ?? []).entries()) {
    const where = `${file} patches[${index}]`;
    const documents =
      entry.path !== undefined
        ? readYamlDocuments(path.resolve(dir, entry.path))
        : parseAllDocuments(entry.patch ?? '').map((d) => d.toJS() as unknown);
    for (const patch of documents) objects = applyPatch(objects, patch, entry.target, where);
  }

  const commonLabels = isMap(doc.commonLabels)
    ? (doc.commonLabels as Record<string, string>)
    : null;
  if (commonLabels) {
    for (const object of objects)
      addLabels(object, commonLabels, { selectors: true, templates: true });
  }
  for (const rule of (doc.labels as Record<string, unknown>[] | undefined) ?? []) {
    const pairs = (rule.pairs as Record<string, string> | undefined) ?? {};
    for (const object of objects) {
      addLabels(object, pairs, {
        selectors: rule.includeSelectors === true,
        templates: rule.includeTemplates === true,
      });
    }
  }
  if (typeof doc.namespace === 'string') {
    for (const object of objects) setNamespace(object, doc.namespace);
  }
  const images = (doc.images as { name: string; newName?: string; newTag?: string }[]) ?? [];
  if (images.length > 0) for (const object of objects) setImages(object, images);
  return objects;
}

/** A stable form for comparing renders: named list items sorted, objects keyed. */
export function normalizeObjects(objects: K8sObject[]): Record<string, unknown> {
  const sortLists = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      const items = value.map(sortLists);
      const key = ['name', 'mountPath', 'containerPort', 'port'].find((k) =>
        items.every((item) => isMap(item) && item[k] !== undefined),
      );
      return key === undefined
        ? items
        : [...items].sort((a, b) =>
            String((a as Record<string, unknown>)[key]).localeCompare(
              String((b as Record<string, unknown>)[key]),
            ),
          );
    }
    if (isMap(value)) {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, sortLists(value[k])]),
      );
    }
    return value;
  };
  return Object.fromEntries(
    objects.map((object) => [
      `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`,
      sortLists(object),
    ]),
  );
}
