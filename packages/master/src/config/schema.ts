/**
 * Zod schemas for the whole config: they check every field, report unknown keys (a typo
 * must never be ignored) and turn the descriptors into the normalized `MasterConfig`
 * (defaults filled in, durations in milliseconds). Cross-references between components
 * (a builder's worker names, a scheduler's builder names, duplicate names) are checked in
 * `validate-config.ts`, which also turns zod's issues into readable problems.
 */
import { z } from 'zod';

import { CONFIG_DEFAULTS } from './defaults.js';
import { describeValue, isPlainObject } from './describe-value.js';
import { parseDuration } from './duration.js';
import { parseInterpolation } from './interpolate.js';
import { DEFAULT_WARNING_PATTERN, warningPatternProblem } from './warning-pattern.js';
import { CronError, cronFromFields, parseCron } from '../schedulers/cron.js';
import type {
  AnyBranchSchedulerConfig,
  ChangeFilterCondition,
  ChangeFilterConfig,
  ChangeHooksConfig,
  CodebaseConfig,
  DependentSchedulerConfig,
  FileIsImportantConfig,
  ForceCodebaseConfig,
  GitPollerBranches,
  GitPollerConfig,
  NightlySchedulerConfig,
  PeriodicSchedulerConfig,
  SingleBranchSchedulerConfig,
  TriggerableSchedulerConfig,
  TriggerStepConfig,
  BuildFactoryConfig,
  BuilderConfig,
  ForceParameter,
  ForceSchedulerConfig,
  GitMethod,
  GitStepConfig,
  InterpolateDescriptor,
  JsonValue,
  KubernetesLatentWorkerConfig,
  LockAccessConfig,
  LockConfig,
  LockMode,
  MasterConfig,
  RenderableBoolean,
  RenderableString,
  RenderableValue,
  RendererDescriptor,
  BuildStepConfigBase,
  CanStartBuildFn,
  CollapseRequestsFn,
  GitHubStatusPushConfig,
  GitLabStatusPushConfig,
  HttpStatusPushConfig,
  NextBuildFn,
  NextWorkerFn,
  ReporterConfigBase,
  SecretsConfig,
  DirectoryUploadStepConfig,
  ExtractPropertiesFn,
  FileDownloadStepConfig,
  FileUploadStepConfig,
  MakeDirectoryStepConfig,
  MasterShellCommandStepConfig,
  RemoveDirectoryStepConfig,
  SetPropertyFromCommandStepConfig,
  SetPropertyStepConfig,
  ShellArgConfig,
  ShellSequenceStepConfig,
  StringDownloadStepConfig,
  ShellCommandStepConfig,
  StepConfig,
  StepConfigBase,
  WorkerConfig,
} from './types.js';

/** `params` key that marks the issue of an unknown key; its value lists the known keys. */
export const UNKNOWN_KEY_PARAM = 'yardmasterKnownKeys';

/** An object whose unknown keys are each reported (with the known keys, for suggestions). */
function strictObject<const Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const knownKeys = Object.keys(shape);
  const unknownKey = z.unknown().superRefine((_value, ctx) => {
    ctx.addIssue({
      code: 'custom',
      message: 'unknown key',
      params: { [UNKNOWN_KEY_PARAM]: knownKeys },
    });
  });
  return z.object(shape).catchall(unknownKey);
}

type IssueSink = { addIssue(issue: z.core.$ZodRawIssue | z.core.$ZodSuperRefineIssue): void };

function report(ctx: IssueSink, message: string, input: unknown, path: PropertyKey[] = []): void {
  ctx.addIssue({ code: 'custom', message, input, path });
}

export const MISSING_FIELD = 'required field is missing';

// ---------------------------------------------------------------------------------------
// Field schemas
// ---------------------------------------------------------------------------------------

const DURATION_HINT = 'expected a duration such as "30s", "5m", "1h30m" or a number of seconds';

/** A duration (number of seconds or "1h30m") → milliseconds; `undefined` when not given. */
function duration(options: { nullable: boolean }) {
  return z.unknown().transform((value, ctx): number | null | undefined => {
    if (value === undefined) return undefined;
    if (value === null && options.nullable) return null;
    const ms = parseDuration(value);
    if (ms !== undefined) return ms;
    if (typeof value === 'number' && value < 0)
      report(ctx, `must not be negative, got ${value}`, value);
    else report(ctx, `${DURATION_HINT}, got ${describeValue(value)}`, value);
    return z.NEVER;
  });
}

function isJsonValue(value: unknown): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJsonValue);
  return isPlainObject(value) && Object.values(value).every(isJsonValue);
}

const jsonValue = z.custom<JsonValue>(isJsonValue, {
  error: (issue) =>
    `expected a JSON value (string, number, true/false, null, list or plain object), got ${describeValue(issue.input)}`,
});

const properties = z.record(z.string().min(1), jsonValue);
/**
 * `interpolate('...')`: only `type` and `format`, and a format that parses. Problems are
 * reported at `path` (the command, list element or env value holding it) or inside it.
 */
function checkInterpolate(
  value: Record<string, unknown>,
  ctx: IssueSink,
  path: PropertyKey[],
): InterpolateDescriptor | undefined {
  let valid = true;
  for (const key of Object.keys(value)) {
    if (key !== 'type' && key !== 'format') {
      ctx.addIssue({
        code: 'custom',
        message: 'unknown key',
        input: value[key],
        path: [...path, key],
        params: { [UNKNOWN_KEY_PARAM]: ['type', 'format'] },
      });
      valid = false;
    }
  }
  const format = value.format;
  if (typeof format !== 'string') {
    report(
      ctx,
      format === undefined
        ? `${MISSING_FIELD} (expected the text of interpolate("..."))`
        : `expected a string, got ${describeValue(format)}`,
      format,
      [...path, 'format'],
    );
    return undefined;
  }
  const parsed = parseInterpolation(format);
  if (!parsed.ok) {
    report(ctx, `interpolate(${describeValue(format)}): ${parsed.error}`, format, path);
    return undefined;
  }
  return valid ? { type: 'interpolate', format } : undefined;
}

function isInterpolate(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && value.type === 'interpolate';
}

function isRenderer(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && value.type === 'renderer';
}

const RENDERER_HINT = 'wrap the function: renderer((props) => ...)';

/** `renderer(fn)`: `type`, `source` and a function `fn`, nothing else. */
function checkRenderer<F extends (...args: never[]) => unknown>(
  value: Record<string, unknown>,
  ctx: IssueSink,
  path: PropertyKey[],
): RendererDescriptor<F> | undefined {
  let valid = true;
  for (const key of Object.keys(value)) {
    if (key !== 'type' && key !== 'source' && key !== 'fn') {
      ctx.addIssue({
        code: 'custom',
        message: 'unknown key',
        input: value[key],
        path: [...path, key],
        params: { [UNKNOWN_KEY_PARAM]: ['type', 'source', 'fn'] },
      });
      valid = false;
    }
  }
  const fn = value.fn;
  if (typeof fn !== 'function') {
    report(ctx, `renderer(...) needs a function, got ${describeValue(fn)}`, fn, path);
    return undefined;
  }
  const source = typeof value.source === 'string' ? value.source : fn.toString();
  return valid ? { type: 'renderer', source, fn: fn as F } : undefined;
}

/** A string, `interpolate('...')` or `renderer(fn)` at `path`; `undefined` (and an issue) otherwise. */
function checkRenderableString(
  value: unknown,
  ctx: IssueSink,
  path: PropertyKey[],
): RenderableString | undefined {
  if (typeof value === 'string') return value;
  if (isInterpolate(value)) return checkInterpolate(value, ctx, path);
  if (isRenderer(value)) return checkRenderer(value, ctx, path);
  if (typeof value === 'function') {
    report(ctx, `expected a string, got a function; ${RENDERER_HINT}`, value, path);
    return undefined;
  }
  report(ctx, `expected a string, got ${describeValue(value)}`, value, path);
  return undefined;
}

/** A string, `interpolate('...')` or `renderer(fn)`. */
const renderableString = z.unknown().transform((value, ctx): RenderableString => {
  if (value === undefined) {
    report(ctx, `${MISSING_FIELD} (expected a string)`, value);
    return z.NEVER;
  }
  return checkRenderableString(value, ctx, []) ?? z.NEVER;
});

/** A JSON value, `interpolate('...')` or `renderer(fn)`. */
const renderableValue = z.unknown().transform((value, ctx): RenderableValue => {
  if (isInterpolate(value)) return checkInterpolate(value, ctx, []) ?? z.NEVER;
  if (isRenderer(value)) return checkRenderer(value, ctx, []) ?? z.NEVER;
  if (value === undefined) {
    report(
      ctx,
      `${MISSING_FIELD} (expected a JSON value, interpolate("...") or renderer(fn))`,
      value,
    );
    return z.NEVER;
  }
  if (isJsonValue(value)) return value;
  report(
    ctx,
    typeof value === 'function'
      ? `expected a value, got a function; ${RENDERER_HINT}`
      : `expected a JSON value, interpolate("...") or renderer(fn), got ${describeValue(value)}`,
    value,
  );
  return z.NEVER;
});

/** `renderer(fn)` for a hook (`nextWorker`, `collapseRequests` …). */
function rendererOf<F extends (...args: never[]) => unknown>(usage: string) {
  return z.unknown().transform((value, ctx): RendererDescriptor<F> => {
    if (isRenderer(value)) {
      return checkRenderer<F>(value, ctx, []) ?? z.NEVER;
    }
    report(
      ctx,
      typeof value === 'function'
        ? `expected renderer(fn), got a bare function; wrap it: renderer(${usage})`
        : `expected renderer(${usage}), got ${describeValue(value)}`,
      value,
    );
    return z.NEVER;
  });
}

/** `true`/`false` or `renderer(fn)` (doStepIf, hideStepIf). */
function renderableBoolean(usage: string) {
  return z.unknown().transform((value, ctx): RenderableBoolean => {
    if (typeof value === 'boolean') return value;
    if (isRenderer(value)) return checkRenderer(value, ctx, []) ?? z.NEVER;
    report(
      ctx,
      typeof value === 'function'
        ? `expected true, false or renderer(fn), got a bare function; wrap it: renderer(${usage})`
        : `expected true, false or renderer(${usage}), got ${describeValue(value)}`,
      value,
    );
    return z.NEVER;
  });
}

// ---------------------------------------------------------------------------------------
// Locks
// ---------------------------------------------------------------------------------------

const LOCK_HINT =
  'expected a lock made by masterLock(name) or workerLock(name), or lock.access("exclusive" | "counting")';

const maxCount = z.number().int().min(1);

const masterLockSchema = strictObject({
  type: z.literal('masterLock'),
  name: z.string().min(1),
  maxCount: maxCount.optional(),
}).transform((lock): LockConfig => ({
  type: 'masterLock',
  name: lock.name,
  maxCount: lock.maxCount ?? CONFIG_DEFAULTS.lock.maxCount,
}));

const workerLockSchema = strictObject({
  type: z.literal('workerLock'),
  name: z.string().min(1),
  maxCount: maxCount.optional(),
  maxCountForWorker: z.record(z.string().min(1), maxCount).optional(),
}).transform((lock): LockConfig => ({
  type: 'workerLock',
  name: lock.name,
  maxCount: lock.maxCount ?? CONFIG_DEFAULTS.lock.maxCount,
  maxCountForWorker: lock.maxCountForWorker ?? {},
}));

function parseInto<T>(
  schema: z.ZodType<T>,
  value: unknown,
  ctx: IssueSink,
  path: PropertyKey[],
): T | undefined {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    ctx.addIssue({ ...issue, path: [...path, ...issue.path] });
  }
  return undefined;
}

function checkLock(value: unknown, ctx: IssueSink, path: PropertyKey[]): LockConfig | undefined {
  if (isPlainObject(value) && value.type === 'masterLock')
    return parseInto(masterLockSchema, value, ctx, path);
  if (isPlainObject(value) && value.type === 'workerLock')
    return parseInto(workerLockSchema, value, ctx, path);
  report(ctx, `${LOCK_HINT}, got ${describeValue(value)}`, value, path);
  return undefined;
}

/** An entry of `locks`: `lock.access(mode[, count])`, or a bare lock (counting, count 1). */
const lockUse = z.unknown().transform((value, ctx): LockAccessConfig => {
  if (isPlainObject(value) && value.type === 'lockAccess') {
    let valid = true;
    for (const key of Object.keys(value)) {
      if (!['type', 'lock', 'mode', 'count'].includes(key)) {
        ctx.addIssue({
          code: 'custom',
          message: 'unknown key',
          input: value[key],
          path: [key],
          params: { [UNKNOWN_KEY_PARAM]: ['type', 'lock', 'mode', 'count'] },
        });
        valid = false;
      }
    }
    const lock = checkLock(value.lock, ctx, ['lock']);
    const mode = value.mode;
    if (mode !== 'exclusive' && mode !== 'counting') {
      report(ctx, `expected "exclusive" or "counting", got ${describeValue(mode)}`, mode, ['mode']);
      valid = false;
    }
    const count = value.count ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      report(ctx, `expected a whole number of at least 0, got ${describeValue(count)}`, count, [
        'count',
      ]);
      valid = false;
    } else if (mode === 'exclusive' && count !== 1) {
      report(ctx, `exclusive access takes the whole lock: count must be 1, got ${count}`, count, [
        'count',
      ]);
      valid = false;
    }
    if (!valid || lock === undefined) return z.NEVER;
    return { type: 'lockAccess', lock, mode: mode as LockMode, count: count as number };
  }
  const lock = checkLock(value, ctx, []);
  return lock === undefined ? z.NEVER : { type: 'lockAccess', lock, mode: 'counting', count: 1 };
});

const locks = z.array(lockUse);

/** Environment variables: name → string or `interpolate('...')`. */
const env = z.record(
  z.string().min(1),
  z.unknown().transform((value, ctx): RenderableString => {
    return checkRenderableString(value, ctx, []) ?? z.NEVER;
  }),
);
const nonEmptyString = z.string().min(1);
const port = z.number().int().min(0).max(65_535);

/** Buildbot's `util.identifiers.ident_re`. */
const IDENTIFIER = /^[A-Za-z\u00a0-\u{10ffff}_-][A-Za-z0-9\u00a0-\u{10ffff}_-]*$/u;
const IDENTIFIER_HINT = 'use letters, digits, "-" and "_", not starting with a digit';

function identifier(what: string, options: { maxLength?: number; reserved?: readonly string[] }) {
  return z.string().superRefine((name, ctx) => {
    if (name === '') report(ctx, 'must not be empty', name);
    else if (options.reserved?.includes(name))
      report(ctx, `${what} "${name}" is reserved; choose another name`, name);
    else if (!IDENTIFIER.test(name))
      report(ctx, `${what} "${name}" is not an identifier: ${IDENTIFIER_HINT}`, name);
    else if (options.maxLength !== undefined && name.length > options.maxLength) {
      report(ctx, `${what} "${name}" is longer than ${options.maxLength} characters`, name);
    }
  });
}

const workerName = identifier('worker name', {
  maxLength: 50,
  reserved: ['debug', 'change', 'status'],
});
const schedulerName = identifier('scheduler name', {});
const parameterName = identifier('parameter name', {
  reserved: ['owner', 'builderNames', 'builderid', 'reason', 'username'],
});

const builderName = z.string().superRefine((name, ctx) => {
  if (name === '') report(ctx, 'must not be empty', name);
  else if (name.startsWith('_'))
    report(ctx, `builder name "${name}" must not start with "_"`, name);
});

const COMMAND_HINT =
  'expected a command: a string such as "make test" or a list such as ["make", "test"]';

const command = z.unknown().transform((value, ctx): RenderableString | RenderableString[] => {
  if (value === undefined) {
    report(ctx, `${MISSING_FIELD} (${COMMAND_HINT})`, value);
    return z.NEVER;
  }
  if (typeof value === 'string') {
    if (value.trim() === '') report(ctx, 'must not be empty', value);
    return value;
  }
  if (isInterpolate(value)) return checkInterpolate(value, ctx, []) ?? z.NEVER;
  if (isRenderer(value)) return checkRenderer(value, ctx, []) ?? z.NEVER;
  if (Array.isArray(value)) {
    if (value.length === 0) report(ctx, 'must not be empty', value);
    let valid = true;
    const words = value.map((word: unknown, index) => {
      const checked = checkRenderableString(word, ctx, [index]);
      if (checked === undefined) valid = false;
      return checked ?? '';
    });
    return valid ? words : z.NEVER;
  }
  report(ctx, `${COMMAND_HINT}, got ${describeValue(value)}`, value);
  return z.NEVER;
});

/** `true` → depth 1, `false` → full clone (null), n → depth n. */
const shallow = z.unknown().transform((value, ctx): number | null | undefined => {
  if (value === undefined) return undefined;
  if (value === true) return 1;
  if (value === false) return null;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  report(
    ctx,
    `expected true, false or a clone depth (a whole number of at least 1), got ${describeValue(value)}`,
    value,
  );
  return z.NEVER;
});

const dbUrl = z.string().superRefine((url, ctx) => {
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(url)) {
    report(
      ctx,
      `expected a database URL such as "sqlite:///path/state.sqlite" or "postgresql://user@host/db", got ${describeValue(url)}`,
      url,
    );
  }
});

// ---------------------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------------------

export const workerSchema = strictObject({
  type: z.literal('worker').optional(),
  name: workerName,
  password: nonEmptyString,
  maxBuilds: z.number().int().min(1).nullable().optional(),
  properties: properties.optional(),
}).transform((worker): WorkerConfig => ({
  type: 'worker',
  name: worker.name,
  password: worker.password,
  maxBuilds: worker.maxBuilds ?? null,
  properties: worker.properties ?? {},
}));

// ---------------------------------------------------------------------------------------
// Kubernetes latent workers
// ---------------------------------------------------------------------------------------

/** RFC 1123 label: pod names are `<name>-<slot>`, their Secrets `<name>-<slot>-<5 random>`. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const latentWorkerName = z.string().superRefine((name, ctx) => {
  if (name === '') report(ctx, 'must not be empty', name);
  else if (!DNS_LABEL.test(name) || name.length > 50) {
    report(
      ctx,
      `kubernetes latent worker name "${name}" must be lower-case letters, digits and "-" (at most 50, starting and ending with a letter or digit): pod names are made from it`,
      name,
    );
  }
});

const namespaceName = z.string().superRefine((name, ctx) => {
  if (!DNS_LABEL.test(name) || name.length > 63) {
    report(ctx, `namespace "${name}" is not a valid Kubernetes namespace name`, name);
  }
});

/** A Kubernetes quantity such as "500m", "2", "1.5Gi", "512Mi"; numbers become strings. */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[kMGTPE]i?|m|u|n)?$/;
const quantity = z.unknown().transform((value, ctx): string => {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text === 'string' && QUANTITY.test(text)) return text;
  report(
    ctx,
    `expected a Kubernetes quantity such as "500m", "2" or "1Gi", got ${describeValue(value)}`,
    value,
  );
  return z.NEVER;
});
const resourceList = z.record(nonEmptyString, quantity);

const hostPort = z.string().superRefine((address, ctx) => {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d+)$/.exec(address);
  const portNumber = Number(match?.[2]);
  if (!match || !(portNumber >= 1 && portNumber <= 65_535)) {
    report(
      ctx,
      `expected host:port that the pods reach the master at, such as "yardmaster:9989", got ${describeValue(address)}`,
      address,
    );
  }
});

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const RESERVED_ENV = ['YARDMASTER_MASTER', 'YARDMASTER_WORKER_NAME', 'YARDMASTER_WORKER_PASSWORD'];
const podEnv = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  for (const name of Object.keys(env)) {
    if (!ENV_NAME.test(name))
      report(ctx, `"${name}" is not an environment variable name`, name, [name]);
    else if (RESERVED_ENV.includes(name)) {
      report(ctx, `${name} is set by the master for each pod; remove it`, name, [name]);
    }
  }
});

const toleration = strictObject({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int().optional(),
});

const podVolume = z.record(z.string(), jsonValue).superRefine((volume, ctx) => {
  if (typeof volume.name !== 'string' || !DNS_LABEL.test(volume.name)) {
    report(ctx, 'a volume needs a name (lower-case letters, digits and "-")', volume.name, [
      'name',
    ]);
  }
  if (Object.keys(volume).length < 2) {
    report(
      ctx,
      'a volume needs a source such as emptyDir: {}, secret or persistentVolumeClaim',
      volume,
    );
  }
});

const volumeMount = strictObject({
  name: nonEmptyString,
  mountPath: nonEmptyString,
  readOnly: z.boolean().optional(),
  subPath: z.string().optional(),
});

export const kubernetesLatentWorkerSchema = strictObject({
  type: z.literal('kubernetesLatentWorker'),
  name: latentWorkerName,
  image: nonEmptyString,
  namespace: namespaceName.nullable().optional(),
  masterAddress: hostPort,
  maxPods: z.number().int().min(1),
  minIdle: z.number().int().min(0).optional(),
  idleTimeout: duration({ nullable: false }).optional(),
  resources: strictObject({
    requests: resourceList.optional(),
    limits: resourceList.optional(),
  }).optional(),
  env: podEnv.optional(),
  nodeSelector: z.record(nonEmptyString, z.string()).optional(),
  tolerations: z.array(toleration).optional(),
  volumes: z.array(podVolume).optional(),
  volumeMounts: z.array(volumeMount).optional(),
  serviceAccountName: nonEmptyString.nullable().optional(),
  unschedulableDeadline: duration({ nullable: false }).optional(),
  activeDeadlineSeconds: z.number().int().min(1).optional(),
  kubeconfig: nonEmptyString.nullable().optional(),
  inCluster: z.boolean().optional(),
  properties: properties.optional(),
}).transform((worker, ctx): KubernetesLatentWorkerConfig => {
  const defaults = CONFIG_DEFAULTS.kubernetesLatentWorker;
  const minIdle = worker.minIdle ?? defaults.minIdle;
  if (minIdle > worker.maxPods) {
    report(ctx, `minIdle (${minIdle}) must not exceed maxPods (${worker.maxPods})`, minIdle, [
      'minIdle',
    ]);
  }
  if (worker.inCluster === true && worker.kubeconfig != null) {
    report(ctx, 'set either inCluster: true or kubeconfig, not both', worker.kubeconfig, [
      'kubeconfig',
    ]);
  }
  const volumeNames = new Set((worker.volumes ?? []).map((v) => v.name));
  (worker.volumeMounts ?? []).forEach((mount, index) => {
    if (!volumeNames.has(mount.name)) {
      report(ctx, `no volume named "${mount.name}" in volumes`, mount.name, [
        'volumeMounts',
        index,
        'name',
      ]);
    }
  });
  return {
    type: 'kubernetesLatentWorker',
    name: worker.name,
    image: worker.image,
    namespace: worker.namespace ?? null,
    masterAddress: worker.masterAddress,
    maxPods: worker.maxPods,
    minIdle,
    idleTimeout: worker.idleTimeout ?? defaults.idleTimeoutMs,
    resources: {
      requests: worker.resources?.requests ?? {},
      limits: worker.resources?.limits ?? {},
    },
    env: worker.env ?? {},
    nodeSelector: worker.nodeSelector ?? {},
    tolerations: worker.tolerations ?? [],
    volumes: worker.volumes ?? [],
    volumeMounts: worker.volumeMounts ?? [],
    serviceAccountName: worker.serviceAccountName ?? null,
    unschedulableDeadline: worker.unschedulableDeadline ?? defaults.unschedulableDeadlineMs,
    activeDeadlineSeconds: worker.activeDeadlineSeconds ?? defaults.activeDeadlineSeconds,
    kubeconfig: worker.kubeconfig ?? null,
    inCluster: worker.inCluster ?? false,
    properties: worker.properties ?? {},
  };
});

/**
 * An entry of `workers`: `kubernetesLatentWorker(...)` by its tag, anything else is
 * checked as `worker(...)` (so its messages stay those of a plain worker).
 */
const anyWorkerSchema = z
  .unknown()
  .transform((value, ctx): WorkerConfig | KubernetesLatentWorkerConfig => {
    const latent = isPlainObject(value) && value.type === 'kubernetesLatentWorker';
    const result = latent
      ? kubernetesLatentWorkerSchema.safeParse(value, { reportInput: true })
      : workerSchema.safeParse(value, { reportInput: true });
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      ctx.addIssue({ ...issue });
    }
    return z.NEVER;
  });

// ---------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------

/** Options of every step (Buildbot's `BuildStep`). */
const buildStepShape = {
  name: nonEmptyString.optional(),
  description: z.string().nullable().optional(),
  descriptionDone: z.string().nullable().optional(),
  haltOnFailure: z.boolean().optional(),
  flunkOnFailure: z.boolean().optional(),
  warnOnFailure: z.boolean().optional(),
  warnOnWarnings: z.boolean().optional(),
  flunkOnWarnings: z.boolean().optional(),
  alwaysRun: z.boolean().optional(),
  doStepIf: renderableBoolean('(props) => boolean').optional(),
  hideStepIf: renderableBoolean('(props, results) => boolean').optional(),
  locks: locks.optional(),
};

/** Options of steps that run a command on the worker. */
const stepShape = {
  ...buildStepShape,
  workdir: nonEmptyString.optional(),
  env: env.optional(),
  timeout: duration({ nullable: true }).optional(),
  maxTime: duration({ nullable: true }).optional(),
  logEnviron: z.boolean().optional(),
};

interface ParsedBuildStepFields {
  description?: string | null | undefined;
  descriptionDone?: string | null | undefined;
  haltOnFailure?: boolean | undefined;
  flunkOnFailure?: boolean | undefined;
  warnOnFailure?: boolean | undefined;
  warnOnWarnings?: boolean | undefined;
  flunkOnWarnings?: boolean | undefined;
  alwaysRun?: boolean | undefined;
  doStepIf?: RenderableBoolean | undefined;
  hideStepIf?: RenderableBoolean | undefined;
  locks?: LockAccessConfig[] | undefined;
}

/** The `BuildStep` options with their defaults. */
function buildStepFields(
  step: ParsedBuildStepFields,
  haltOnFailure: boolean,
): Omit<BuildStepConfigBase, 'name'> {
  const defaults = CONFIG_DEFAULTS.step;
  return {
    description: step.description ?? null,
    descriptionDone: step.descriptionDone ?? null,
    haltOnFailure: step.haltOnFailure ?? haltOnFailure,
    flunkOnFailure: step.flunkOnFailure ?? defaults.flunkOnFailure,
    warnOnFailure: step.warnOnFailure ?? defaults.warnOnFailure,
    warnOnWarnings: step.warnOnWarnings ?? defaults.warnOnWarnings,
    flunkOnWarnings: step.flunkOnWarnings ?? defaults.flunkOnWarnings,
    alwaysRun: step.alwaysRun ?? defaults.alwaysRun,
    doStepIf: step.doStepIf ?? true,
    hideStepIf: step.hideStepIf ?? false,
    locks: step.locks ?? [],
  };
}

interface ParsedStepFields extends ParsedBuildStepFields {
  workdir?: string | undefined;
  env?: Record<string, RenderableString> | undefined;
  timeout?: number | null | undefined;
  maxTime?: number | null | undefined;
  logEnviron?: boolean | undefined;
}

function stepFields(step: ParsedStepFields, haltOnFailure: boolean): Omit<StepConfigBase, 'name'> {
  const defaults = CONFIG_DEFAULTS.step;
  return {
    ...buildStepFields(step, haltOnFailure),
    workdir: step.workdir ?? defaults.workdir,
    env: step.env ?? {},
    timeout: step.timeout === undefined ? defaults.timeoutMs : step.timeout,
    maxTime: step.maxTime ?? null,
    logEnviron: step.logEnviron ?? defaults.logEnviron,
  };
}

/** The text a renderable starts from: the string, or the format of `interpolate(...)`. */
function templateText(value: RenderableString | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.type === 'interpolate' ? value.format : '%';
}

/**
 * Default shell step name: the program's name (`make -j4` → "make"), else "shell". For
 * `interpolate(...)`, the program's name when the format's first word has no substitution.
 */
export function defaultShellCommandName(
  commandLine: RenderableString | RenderableString[],
): string {
  const head = Array.isArray(commandLine) ? commandLine[0] : commandLine;
  const text = templateText(head);
  const first = Array.isArray(commandLine) ? text : text?.trim().split(/\s+/)[0];
  const program = first
    ?.split('/')
    .filter((part) => part !== '')
    .at(-1);
  const rendered = typeof head === 'object' && program?.includes('%') === true;
  return program === undefined || program === '' || rendered
    ? CONFIG_DEFAULTS.shellCommand.name
    : program;
}

/** `logfiles`: log name → file on the worker (or `{ filename, follow }`). */
const logfiles = z.record(
  z.string().min(1),
  z.union([
    nonEmptyString.transform((filename) => ({ filename, follow: false })),
    strictObject({ filename: nonEmptyString, follow: z.boolean().optional() }).transform(
      (spec) => ({ filename: spec.filename, follow: spec.follow ?? false }),
    ),
  ]),
);

/** A regular expression for warning lines; `true`: Buildbot's default. */
const warningPattern = z.unknown().transform((value, ctx): string | null | undefined => {
  if (value === undefined || value === null) return value;
  if (value === true) return DEFAULT_WARNING_PATTERN;
  if (typeof value === 'string' && value !== '') {
    const problem = warningPatternProblem(value);
    if (problem === undefined) return value;
    report(ctx, `not a valid regular expression: ${problem}`, value);
    return z.NEVER;
  }
  report(
    ctx,
    `expected a regular expression such as "^.*warning: .*" (or true for Buildbot's default), got ${describeValue(value)}`,
    value,
  );
  return z.NEVER;
});

export const shellCommandSchema = strictObject({
  type: z.literal('shellCommand'),
  ...stepShape,
  command,
  wantStdout: z.boolean().optional(),
  wantStderr: z.boolean().optional(),
  logfiles: logfiles.optional(),
  warningPattern: warningPattern.optional(),
  maxWarnCount: z.number().int().min(0).nullable().optional(),
}).transform((step): ShellCommandStepConfig => ({
  type: 'shellCommand',
  name: step.name ?? defaultShellCommandName(step.command),
  command: step.command,
  wantStdout: step.wantStdout ?? CONFIG_DEFAULTS.shellCommand.wantStdout,
  wantStderr: step.wantStderr ?? CONFIG_DEFAULTS.shellCommand.wantStderr,
  logfiles: step.logfiles ?? {},
  warningPattern:
    step.warningPattern ??
    (step.maxWarnCount !== undefined && step.maxWarnCount !== null
      ? DEFAULT_WARNING_PATTERN
      : null),
  maxWarnCount: step.maxWarnCount ?? null,
  ...stepFields(step, CONFIG_DEFAULTS.step.haltOnFailure),
}));

const resultFlags = {
  haltOnFailure: z.boolean().optional(),
  flunkOnFailure: z.boolean().optional(),
  warnOnFailure: z.boolean().optional(),
  warnOnWarnings: z.boolean().optional(),
  flunkOnWarnings: z.boolean().optional(),
};

/** One command of a shell sequence (Buildbot's `util.ShellArg`). */
const shellArgSchema = strictObject({
  command,
  logname: nonEmptyString.nullable().optional(),
  ...resultFlags,
}).transform((arg): ShellArgConfig => {
  const defaults = CONFIG_DEFAULTS.step;
  return {
    command: arg.command,
    logname: arg.logname ?? null,
    haltOnFailure: arg.haltOnFailure ?? defaults.haltOnFailure,
    flunkOnFailure: arg.flunkOnFailure ?? defaults.flunkOnFailure,
    warnOnFailure: arg.warnOnFailure ?? defaults.warnOnFailure,
    warnOnWarnings: arg.warnOnWarnings ?? defaults.warnOnWarnings,
    flunkOnWarnings: arg.flunkOnWarnings ?? defaults.flunkOnWarnings,
  };
});

export const shellSequenceSchema = strictObject({
  type: z.literal('shellSequence'),
  ...stepShape,
  commands: z.array(shellArgSchema).min(1),
}).transform((step): ShellSequenceStepConfig => ({
  type: 'shellSequence',
  name: step.name ?? CONFIG_DEFAULTS.shellSequence.name,
  commands: step.commands,
  ...stepFields(step, CONFIG_DEFAULTS.step.haltOnFailure),
}));

const propertyName = z.string().superRefine((name, ctx) => {
  if (name === '') report(ctx, 'must not be empty', name);
});

export const setPropertySchema = strictObject({
  type: z.literal('setProperty'),
  ...buildStepShape,
  property: propertyName,
  value: renderableValue,
}).transform((step): SetPropertyStepConfig => ({
  type: 'setProperty',
  name: step.name ?? CONFIG_DEFAULTS.setProperty.name,
  property: step.property,
  value: step.value,
  ...buildStepFields(step, CONFIG_DEFAULTS.step.haltOnFailure),
}));

export const setPropertyFromCommandSchema = strictObject({
  type: z.literal('setPropertyFromCommand'),
  ...stepShape,
  command,
  property: propertyName.optional(),
  extractFn: rendererOf<ExtractPropertiesFn>(
    '(rc, stdout, stderr) => ({ name: value })',
  ).optional(),
  strip: z.boolean().optional(),
  includeStdout: z.boolean().optional(),
  includeStderr: z.boolean().optional(),
}).transform((step, ctx): SetPropertyFromCommandStepConfig => {
  if ((step.property === undefined) === (step.extractFn === undefined)) {
    report(
      ctx,
      'set exactly one of property and extractFn',
      step.property ?? step.extractFn,
      step.property === undefined ? [] : ['property'],
    );
  }
  return {
    type: 'setPropertyFromCommand',
    name: step.name ?? CONFIG_DEFAULTS.setPropertyFromCommand.name,
    command: step.command,
    property: step.property ?? null,
    extractFn: step.extractFn ?? null,
    strip: step.strip ?? true,
    includeStdout: step.includeStdout ?? true,
    // As Buildbot: extractFn always sees stderr.
    includeStderr: step.extractFn !== undefined || (step.includeStderr ?? false),
    ...stepFields(step, CONFIG_DEFAULTS.step.haltOnFailure),
  };
});

const fileMode = z.number().int().min(0).max(0o7777).nullable();

const transferShape = {
  ...buildStepShape,
  workdir: nonEmptyString.optional(),
  blocksize: z.number().int().min(1).optional(),
  maxsize: z.number().int().min(0).nullable().optional(),
};

function transferFields(
  step: ParsedBuildStepFields & {
    workdir?: string | undefined;
    blocksize?: number | undefined;
    maxsize?: number | null | undefined;
  },
  blocksize: number,
) {
  return {
    ...buildStepFields(step, CONFIG_DEFAULTS.step.haltOnFailure),
    workdir: step.workdir ?? CONFIG_DEFAULTS.step.workdir,
    blocksize: step.blocksize ?? blocksize,
    maxsize: step.maxsize ?? null,
  };
}

export const fileUploadSchema = strictObject({
  type: z.literal('fileUpload'),
  ...transferShape,
  workersrc: renderableString,
  masterdest: renderableString,
  mode: fileMode.optional(),
  keepstamp: z.boolean().optional(),
  url: nonEmptyString.nullable().optional(),
  urlText: nonEmptyString.nullable().optional(),
}).transform((step): FileUploadStepConfig => ({
  type: 'fileUpload',
  name: step.name ?? CONFIG_DEFAULTS.transfer.uploadName,
  workersrc: step.workersrc,
  masterdest: step.masterdest,
  mode: step.mode ?? null,
  keepstamp: step.keepstamp ?? false,
  url: step.url ?? null,
  urlText: step.urlText ?? null,
  ...transferFields(step, CONFIG_DEFAULTS.transfer.fileUploadBlocksize),
}));

export const directoryUploadSchema = strictObject({
  type: z.literal('directoryUpload'),
  ...transferShape,
  workersrc: renderableString,
  masterdest: renderableString,
  compress: z.enum(['gz']).nullable().optional(),
  url: nonEmptyString.nullable().optional(),
  urlText: nonEmptyString.nullable().optional(),
}).transform((step): DirectoryUploadStepConfig => ({
  type: 'directoryUpload',
  name: step.name ?? CONFIG_DEFAULTS.transfer.uploadName,
  workersrc: step.workersrc,
  masterdest: step.masterdest,
  compress: step.compress ?? null,
  url: step.url ?? null,
  urlText: step.urlText ?? null,
  ...transferFields(step, CONFIG_DEFAULTS.transfer.blocksize),
}));

export const fileDownloadSchema = strictObject({
  type: z.literal('fileDownload'),
  ...transferShape,
  mastersrc: renderableString,
  workerdest: renderableString,
  mode: fileMode.optional(),
}).transform((step): FileDownloadStepConfig => ({
  type: 'fileDownload',
  name: step.name ?? CONFIG_DEFAULTS.transfer.downloadName,
  mastersrc: step.mastersrc,
  workerdest: step.workerdest,
  mode: step.mode ?? null,
  ...transferFields(step, CONFIG_DEFAULTS.transfer.blocksize),
}));

export const stringDownloadSchema = strictObject({
  type: z.literal('stringDownload'),
  ...transferShape,
  s: renderableString,
  workerdest: renderableString,
  mode: fileMode.optional(),
}).transform((step): StringDownloadStepConfig => ({
  type: 'stringDownload',
  name: step.name ?? CONFIG_DEFAULTS.transfer.stringDownloadName,
  s: step.s,
  workerdest: step.workerdest,
  mode: step.mode ?? null,
  ...transferFields(step, CONFIG_DEFAULTS.transfer.blocksize),
}));

export const makeDirectorySchema = strictObject({
  type: z.literal('makeDirectory'),
  ...buildStepShape,
  dir: renderableString,
}).transform((step): MakeDirectoryStepConfig => ({
  type: 'makeDirectory',
  name: step.name ?? CONFIG_DEFAULTS.makeDirectory.name,
  dir: step.dir,
  ...buildStepFields(step, CONFIG_DEFAULTS.step.haltOnFailure),
}));

export const removeDirectorySchema = strictObject({
  type: z.literal('removeDirectory'),
  ...buildStepShape,
  dir: renderableString,
}).transform((step): RemoveDirectoryStepConfig => ({
  type: 'removeDirectory',
  name: step.name ?? CONFIG_DEFAULTS.removeDirectory.name,
  dir: step.dir,
  ...buildStepFields(step, CONFIG_DEFAULTS.step.haltOnFailure),
}));

export const masterShellCommandSchema = strictObject({
  type: z.literal('masterShellCommand'),
  ...buildStepShape,
  command,
  env: env.optional(),
  workdir: nonEmptyString.nullable().optional(),
  maxTime: duration({ nullable: true }).optional(),
}).transform((step): MasterShellCommandStepConfig => ({
  type: 'masterShellCommand',
  name: step.name ?? CONFIG_DEFAULTS.masterShellCommand.name,
  command: step.command,
  env: step.env ?? {},
  workdir: step.workdir ?? null,
  maxTime: step.maxTime ?? null,
  ...buildStepFields(step, CONFIG_DEFAULTS.masterShellCommand.haltOnFailure),
}));

const GIT_METHODS = ['clobber', 'fresh', 'clean', 'copy'] as const satisfies readonly GitMethod[];

export const gitSchema = strictObject({
  type: z.literal('git'),
  ...stepShape,
  repourl: nonEmptyString,
  branch: nonEmptyString.optional(),
  mode: z.enum(['incremental', 'full']).optional(),
  method: z.enum(GIT_METHODS).optional(),
  submodules: z.boolean().optional(),
  shallow: shallow.optional(),
  retryFetch: z.boolean().optional(),
  clobberOnFailure: z.boolean().optional(),
}).transform((step, ctx): GitStepConfig => {
  const mode = step.mode ?? CONFIG_DEFAULTS.git.mode;
  let method: GitMethod | null = null;
  if (mode === 'full') method = step.method ?? CONFIG_DEFAULTS.git.fullMethod;
  else if (step.method !== undefined) {
    report(
      ctx,
      `method "${step.method}" applies only to mode "full"; remove it or set mode: "full"`,
      step.method,
      ['method'],
    );
  }
  const depth = step.shallow ?? null;
  if (depth !== null && !(mode === 'full' && method === 'clobber')) {
    report(ctx, 'a shallow clone needs mode: "full" and method: "clobber"', depth, ['shallow']);
  }
  return {
    type: 'git',
    name: step.name ?? CONFIG_DEFAULTS.git.name,
    repourl: step.repourl,
    branch: step.branch ?? CONFIG_DEFAULTS.git.branch,
    mode,
    method,
    submodules: step.submodules ?? false,
    shallow: depth,
    retryFetch: step.retryFetch ?? false,
    clobberOnFailure: step.clobberOnFailure ?? false,
    ...stepFields(step, CONFIG_DEFAULTS.git.haltOnFailure),
  };
});

// ---- trigger (change sources and schedulers: see "Change sources and schedulers" below) ----

const triggerSourceStamp = strictObject({
  codebase: z.string().optional(),
  branch: z.string().nullable().optional(),
  revision: z.string().nullable().optional(),
  repository: z.string().optional(),
  project: z.string().optional(),
}).transform((ss) => ({
  codebase: ss.codebase ?? '',
  branch: ss.branch ?? null,
  revision: ss.revision ?? null,
  repository: ss.repository ?? '',
  project: ss.project ?? '',
}));

export const triggerSchema = strictObject({
  type: z.literal('trigger'),
  ...buildStepShape,
  schedulerNames: z.array(nonEmptyString).min(1),
  waitForFinish: z.boolean().optional(),
  alwaysUseLatest: z.boolean().optional(),
  updateSourceStamp: z.boolean().optional(),
  sourceStamps: z.array(triggerSourceStamp).optional(),
  setProperties: z.record(z.string().min(1), renderableValue).optional(),
  copyProperties: z.array(nonEmptyString).optional(),
  unimportantSchedulerNames: z.array(nonEmptyString).optional(),
  parentRelationship: z.string().optional(),
}).transform((step, ctx): TriggerStepConfig => {
  const stamps = step.sourceStamps ?? [];
  if (stamps.length > 0 && step.updateSourceStamp !== undefined) {
    report(ctx, 'give either sourceStamps or updateSourceStamp, not both', step.updateSourceStamp, [
      'updateSourceStamp',
    ]);
  }
  if (stamps.length > 0 && step.alwaysUseLatest === true) {
    report(ctx, 'give either sourceStamps or alwaysUseLatest, not both', true, ['alwaysUseLatest']);
  }
  if (step.alwaysUseLatest === true && step.updateSourceStamp !== undefined) {
    report(ctx, 'give either alwaysUseLatest or updateSourceStamp, not both', true, [
      'updateSourceStamp',
    ]);
  }
  const codebases = stamps.map((ss) => ss.codebase);
  codebases.forEach((codebase, index) => {
    if (codebases.indexOf(codebase) !== index) {
      report(ctx, `codebase "${codebase}" is given twice`, codebase, ['sourceStamps', index]);
    }
  });
  const unimportant = step.unimportantSchedulerNames ?? [];
  unimportant.forEach((name, index) => {
    if (!step.schedulerNames.includes(name)) {
      report(ctx, `"${name}" is not one of schedulerNames`, name, [
        'unimportantSchedulerNames',
        index,
      ]);
    }
  });
  const alwaysUseLatest = step.alwaysUseLatest ?? false;
  return {
    type: 'trigger',
    name: step.name ?? CONFIG_DEFAULTS.trigger.name,
    schedulerNames: step.schedulerNames,
    unimportantSchedulerNames: unimportant,
    waitForFinish: step.waitForFinish ?? false,
    alwaysUseLatest,
    updateSourceStamp: step.updateSourceStamp ?? !(alwaysUseLatest || stamps.length > 0),
    sourceStamps: stamps,
    setProperties: step.setProperties ?? {},
    copyProperties: step.copyProperties ?? [],
    parentRelationship: step.parentRelationship ?? CONFIG_DEFAULTS.trigger.parentRelationship,
    ...buildStepFields(step, CONFIG_DEFAULTS.step.haltOnFailure),
  };
});

export const stepSchema = z.discriminatedUnion('type', [
  shellCommandSchema,
  gitSchema,
  shellSequenceSchema,
  setPropertySchema,
  setPropertyFromCommandSchema,
  fileUploadSchema,
  directoryUploadSchema,
  fileDownloadSchema,
  stringDownloadSchema,
  makeDirectorySchema,
  removeDirectorySchema,
  masterShellCommandSchema,
  triggerSchema,
]);

/** Buildbot's `setUniqueStepName`: a repeated name gets `_1`, `_2` … */
export function uniqueStepNames(steps: StepConfig[]): StepConfig[] {
  const taken = new Set(steps.map((step) => step.name));
  const seen = new Set<string>();
  const counters = new Map<string, number>();
  return steps.map((step) => {
    if (!seen.has(step.name)) {
      seen.add(step.name);
      return step;
    }
    let count = counters.get(step.name) ?? 0;
    let name: string;
    do {
      count += 1;
      name = `${step.name}_${count}`;
    } while (taken.has(name) || seen.has(name));
    counters.set(step.name, count);
    seen.add(name);
    return { ...step, name };
  });
}

export const buildFactorySchema = strictObject({
  type: z.literal('buildFactory').optional(),
  steps: z.array(stepSchema),
}).transform((factory): BuildFactoryConfig => ({
  type: 'buildFactory',
  steps: uniqueStepNames(factory.steps),
}));

// ---------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------

/** A builder before the global `collapseRequests` default is applied (`null`: inherit). */
type ParsedBuilder = Omit<BuilderConfig, 'collapseRequests'> & {
  collapseRequests: BuilderConfig['collapseRequests'] | null;
};

/** `collapseRequests`: true, false or `renderer((builder, request, other) => boolean)`. */
const collapseRequests = z
  .unknown()
  .transform((value, ctx): boolean | RendererDescriptor<CollapseRequestsFn> | undefined => {
    if (value === undefined || typeof value === 'boolean') return value;
    if (isRenderer(value)) {
      return checkRenderer<CollapseRequestsFn>(value, ctx, []) ?? z.NEVER;
    }
    report(
      ctx,
      `expected true, false or renderer((builder, request, other) => boolean), got ${describeValue(value)}`,
      value,
    );
    return z.NEVER;
  });

export const builderSchema = strictObject({
  type: z.literal('builder').optional(),
  name: builderName,
  workerNames: z.array(nonEmptyString).min(1),
  factory: buildFactorySchema,
  tags: z.array(nonEmptyString).optional(),
  description: z.string().nullable().optional(),
  collapseRequests: collapseRequests.optional(),
  properties: properties.optional(),
  priority: z.number().int().optional(),
  locks: locks.optional(),
  nextWorker: rendererOf<NextWorkerFn>('(builder, workers, request) => worker')
    .nullable()
    .optional(),
  nextBuild: rendererOf<NextBuildFn>('(builder, requests) => request').nullable().optional(),
  canStartBuild: rendererOf<CanStartBuildFn>('(builder, worker, request) => boolean')
    .nullable()
    .optional(),
}).transform((builder): ParsedBuilder => ({
  type: 'builder',
  name: builder.name,
  workerNames: builder.workerNames,
  factory: builder.factory,
  tags: builder.tags ?? [],
  description: builder.description ?? null,
  collapseRequests: builder.collapseRequests ?? null,
  properties: builder.properties ?? {},
  priority: builder.priority ?? CONFIG_DEFAULTS.builder.priority,
  locks: builder.locks ?? [],
  nextWorker: builder.nextWorker ?? null,
  nextBuild: builder.nextBuild ?? null,
  canStartBuild: builder.canStartBuild ?? null,
}));

// ---------------------------------------------------------------------------------------
// Schedulers
// ---------------------------------------------------------------------------------------

const parameterShape = {
  name: parameterName,
  label: z.string().optional(),
  tablabel: z.string().optional(),
  required: z.boolean().optional(),
  hide: z.boolean().optional(),
};

/** A regular expression that compiles (JavaScript syntax). */
const regexText = z.string().superRefine((pattern, ctx) => {
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    report(ctx, `not a valid regular expression: ${(error as Error).message}`, pattern);
  }
});

function parameterBase(parameter: {
  name: string;
  label?: string | undefined;
  tablabel?: string | undefined;
  required?: boolean | undefined;
  hide?: boolean | undefined;
}) {
  const label = parameter.label ?? parameter.name;
  return {
    name: parameter.name,
    label,
    tablabel: parameter.tablabel ?? label,
    required: parameter.required ?? false,
    hide: parameter.hide ?? false,
  };
}

const stringParameterSchema = strictObject({
  type: z.literal('string'),
  ...parameterShape,
  default: z.string().optional(),
  regex: regexText.optional(),
  maxsize: z.number().int().min(1).optional(),
  size: z.number().int().min(1).optional(),
}).transform((p): ForceParameter => ({
  type: 'string',
  ...parameterBase(p),
  default: p.default ?? '',
  regex: p.regex ?? null,
  maxsize: p.maxsize ?? null,
  size: p.size ?? 10,
}));

const textParameterSchema = strictObject({
  type: z.literal('text'),
  ...parameterShape,
  default: z.string().optional(),
  regex: regexText.optional(),
  maxsize: z.number().int().min(1).optional(),
  cols: z.number().int().min(1).optional(),
  rows: z.number().int().min(1).optional(),
}).transform((p): ForceParameter => ({
  type: 'text',
  ...parameterBase(p),
  default: p.default ?? '',
  regex: p.regex ?? null,
  maxsize: p.maxsize ?? null,
  cols: p.cols ?? 80,
  rows: p.rows ?? 20,
}));

const intParameterSchema = strictObject({
  type: z.literal('int'),
  ...parameterShape,
  default: z.number().int().optional(),
}).transform((p): ForceParameter => ({
  type: 'int',
  ...parameterBase(p),
  default: p.default ?? 0,
}));

const boolParameterSchema = strictObject({
  type: z.literal('bool'),
  ...parameterShape,
  default: z.boolean().optional(),
}).transform((p): ForceParameter => ({
  type: 'bool',
  ...parameterBase(p),
  default: p.default ?? false,
}));

const choiceParameterSchema = strictObject({
  type: z.literal('choice'),
  ...parameterShape,
  choices: z.array(z.string()).min(1),
  default: z.union([z.string(), z.array(z.string())]).optional(),
  strict: z.boolean().optional(),
  multiple: z.boolean().optional(),
}).transform((p, ctx): ForceParameter => {
  const multiple = p.multiple ?? false;
  const strict = p.strict ?? true;
  const fallback = multiple ? [] : (p.choices[0] ?? '');
  const value = p.default ?? fallback;
  if (Array.isArray(value) !== multiple) {
    report(
      ctx,
      multiple ? 'expected a list of choices (multiple: true)' : 'expected one choice',
      value,
      ['default'],
    );
  }
  for (const item of Array.isArray(value) ? value : [value]) {
    if (strict && !p.choices.includes(item)) {
      report(ctx, `"${item}" is not one of the choices`, item, ['default']);
    }
  }
  return {
    type: 'choice',
    ...parameterBase(p),
    choices: p.choices,
    default: value,
    strict,
    multiple,
  };
});

const fixedParameterSchema = strictObject({
  type: z.literal('fixed'),
  ...parameterShape,
  default: jsonValue,
}).transform((p): ForceParameter => ({
  type: 'fixed',
  ...parameterBase(p),
  hide: p.hide ?? true,
  default: p.default,
}));

/** A force parameter of any type; `nested` holds more of them. */
const forceParameterValue: z.ZodType<ForceParameter> = z
  .unknown()
  .transform((value, ctx): ForceParameter => {
    const type = isPlainObject(value) ? value.type : undefined;
    const schemas: Record<string, z.ZodType<ForceParameter>> = {
      string: stringParameterSchema,
      text: textParameterSchema,
      int: intParameterSchema,
      bool: boolParameterSchema,
      choice: choiceParameterSchema,
      fixed: fixedParameterSchema,
      nested: nestedParameterSchema,
    };
    const schema = typeof type === 'string' ? schemas[type] : undefined;
    if (!schema) {
      const got = type === undefined ? 'no type' : `type ${describeValue(type)}`;
      report(
        ctx,
        `expected a parameter such as { name: "target", type: "string" } (types: ${Object.keys(schemas).join(', ')}), got ${isPlainObject(value) ? got : describeValue(value)}`,
        value,
        isPlainObject(value) && type !== undefined ? ['type'] : [],
      );
      return z.NEVER;
    }
    return parseInto(schema, value, ctx, []) ?? z.NEVER;
  });

const nestedParameterSchema: z.ZodType<ForceParameter> = strictObject({
  type: z.literal('nested'),
  name: z.string(),
  label: z.string().optional(),
  tablabel: z.string().optional(),
  required: z.boolean().optional(),
  hide: z.boolean().optional(),
  layout: z.enum(['vertical', 'simple', 'tabs']).optional(),
  columns: z.number().int().min(1).max(4).optional(),
  fields: z.array(z.lazy(() => forceParameterValue)),
}).transform((p, ctx): ForceParameter => {
  if (p.name !== '' && !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(p.name)) {
    report(ctx, `parameter name "${p.name}" is not an identifier: ${IDENTIFIER_HINT}`, p.name, [
      'name',
    ]);
  }
  const visible = p.fields.filter((field) => !field.hide).length;
  return {
    type: 'nested',
    ...parameterBase(p),
    layout: p.layout ?? 'vertical',
    columns: p.columns ?? (visible >= 4 ? 2 : 1),
    fields: p.fields,
  };
});

export const forceParameterSchema = forceParameterValue;

const CODEBASE_FIELDS = ['branch', 'project', 'repository', 'revision'] as const;

/** A field of a force codebase: text by default, fixed for a string, none for null. */
function codebaseField(
  name: (typeof CODEBASE_FIELDS)[number],
  value: unknown,
  ctx: IssueSink,
): ForceParameter | null {
  if (value === null) return null;
  const label = `${name.charAt(0).toUpperCase()}${name.slice(1)}:`;
  if (value === undefined) {
    return {
      type: 'string',
      name,
      label,
      tablabel: label,
      required: false,
      hide: false,
      default: '',
      regex: null,
      maxsize: null,
      size: 10,
    };
  }
  if (typeof value === 'string') {
    return {
      type: 'fixed',
      name,
      label: name,
      tablabel: name,
      required: false,
      hide: true,
      default: value,
    };
  }
  const parsed = parseInto(forceParameterValue, value, ctx, [name]);
  if (parsed && parsed.name !== name) {
    report(ctx, `the ${name} parameter of a codebase must be named "${name}"`, parsed.name, [
      name,
      'name',
    ]);
  }
  return parsed ?? null;
}

const forceCodebase = z.unknown().transform((value, ctx): ForceCodebaseConfig => {
  const input = typeof value === 'string' ? { codebase: value } : value;
  if (!isPlainObject(input)) {
    report(
      ctx,
      `expected a codebase name or { codebase, branch?, revision?, repository?, project? }, got ${describeValue(value)}`,
      value,
    );
    return z.NEVER;
  }
  for (const key of Object.keys(input)) {
    if (!['codebase', 'label', ...CODEBASE_FIELDS].includes(key)) {
      ctx.addIssue({
        code: 'custom',
        message: 'unknown key',
        input: input[key],
        path: [key],
        params: { [UNKNOWN_KEY_PARAM]: ['codebase', 'label', ...CODEBASE_FIELDS] },
      });
    }
  }
  const codebase = input.codebase;
  if (typeof codebase !== 'string') {
    report(
      ctx,
      `${MISSING_FIELD} (expected the codebase's name, "" for the default one)`,
      codebase,
      ['codebase'],
    );
    return z.NEVER;
  }
  const label =
    typeof input.label === 'string' ? input.label : codebase === '' ? '' : `Codebase: ${codebase}`;
  const fields = CODEBASE_FIELDS.map((name) => codebaseField(name, input[name], ctx)).filter(
    (field): field is ForceParameter => field !== null,
  );
  return { codebase, label, fields };
});

export const forceSchedulerSchema = strictObject({
  type: z.literal('force'),
  name: schedulerName,
  builderNames: z.array(nonEmptyString).min(1),
  reason: z.string().optional(),
  reasonString: z.string().optional(),
  label: z.string().optional(),
  buttonName: z.string().optional(),
  codebases: z.array(forceCodebase).min(1).optional(),
  properties: z.array(forceParameterValue).optional(),
}).transform((scheduler, ctx): ForceSchedulerConfig => {
  const codebases = scheduler.codebases ?? [
    {
      codebase: '',
      label: '',
      fields: CODEBASE_FIELDS.map((name) => codebaseField(name, undefined, ctx) as ForceParameter),
    },
  ];
  const seen = new Set<string>();
  codebases.forEach((codebase, index) => {
    if (seen.has(codebase.codebase)) {
      report(ctx, `codebase "${codebase.codebase}" is listed twice`, codebase.codebase, [
        'codebases',
        index,
      ]);
    }
    seen.add(codebase.codebase);
  });
  return {
    type: 'force',
    name: scheduler.name,
    builderNames: scheduler.builderNames,
    reason: scheduler.reason ?? CONFIG_DEFAULTS.forceScheduler.reason,
    reasonString: scheduler.reasonString ?? CONFIG_DEFAULTS.forceScheduler.reasonString,
    label: scheduler.label ?? scheduler.name,
    buttonName: scheduler.buttonName ?? CONFIG_DEFAULTS.forceScheduler.buttonName,
    codebases,
    properties: scheduler.properties ?? [],
  };
});

// ---------------------------------------------------------------------------------------
// Change sources and schedulers (change filters, codebases, timers)
// ---------------------------------------------------------------------------------------

const stringList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]));
const nullableStringList = z
  .union([z.string(), z.null(), z.array(z.string().nullable())])
  .transform((v) => (Array.isArray(v) ? v : [v]));
const regexList = z
  .union([regexText, z.array(regexText)])
  .transform((v) => (Array.isArray(v) ? v : [v]));

const FILTER_FIELDS = ['project', 'repository', 'branch', 'category', 'codebase'] as const;

const changeFilterShape = {
  type: z.literal('changeFilter').optional(),
  project: stringList.optional(),
  projectNotEq: stringList.optional(),
  projectRe: regexList.optional(),
  projectNotRe: regexList.optional(),
  repository: stringList.optional(),
  repositoryNotEq: stringList.optional(),
  repositoryRe: regexList.optional(),
  repositoryNotRe: regexList.optional(),
  branch: nullableStringList.optional(),
  branchNotEq: nullableStringList.optional(),
  branchRe: regexList.optional(),
  branchNotRe: regexList.optional(),
  category: nullableStringList.optional(),
  categoryNotEq: nullableStringList.optional(),
  categoryRe: regexList.optional(),
  categoryNotRe: regexList.optional(),
  codebase: stringList.optional(),
  codebaseNotEq: stringList.optional(),
  codebaseRe: regexList.optional(),
  codebaseNotRe: regexList.optional(),
  propertyEq: z.record(z.string().min(1), jsonValue).optional(),
  propertyNotEq: z.record(z.string().min(1), jsonValue).optional(),
  propertyRe: z.record(z.string().min(1), regexList).optional(),
  propertyNotRe: z.record(z.string().min(1), regexList).optional(),
};

const asList = (value: JsonValue): JsonValue[] => (Array.isArray(value) ? value : [value]);

export const changeFilterSchema = strictObject(changeFilterShape).transform(
  (filter): ChangeFilterConfig => {
    const conditions: ChangeFilterCondition[] = [];
    for (const field of FILTER_FIELDS) {
      const eq = filter[field];
      const notEq = filter[`${field}NotEq`];
      const re = filter[`${field}Re`];
      const notRe = filter[`${field}NotRe`];
      if (eq === undefined && notEq === undefined && re === undefined && notRe === undefined)
        continue;
      conditions.push({
        field,
        eq: eq ?? null,
        notEq: notEq ?? null,
        re: re ?? null,
        notRe: notRe ?? null,
      });
    }
    const names = new Set([
      ...Object.keys(filter.propertyEq ?? {}),
      ...Object.keys(filter.propertyNotEq ?? {}),
      ...Object.keys(filter.propertyRe ?? {}),
      ...Object.keys(filter.propertyNotRe ?? {}),
    ]);
    for (const name of [...names].sort()) {
      const eq = filter.propertyEq?.[name];
      const notEq = filter.propertyNotEq?.[name];
      conditions.push({
        field: `property:${name}`,
        eq: eq === undefined ? null : asList(eq),
        notEq: notEq === undefined ? null : asList(notEq),
        re: filter.propertyRe?.[name] ?? null,
        notRe: filter.propertyNotRe?.[name] ?? null,
      });
    }
    return { type: 'changeFilter', conditions };
  },
);

const fileIsImportantSchema = strictObject({
  files: z.array(nonEmptyString).optional(),
  notFiles: z.array(nonEmptyString).optional(),
})
  .nullable()
  .transform((rule): FileIsImportantConfig | null =>
    rule === null ? null : { files: rule.files ?? [], notFiles: rule.notFiles ?? [] },
  );

const codebasesSchema = z
  .union([
    z.array(z.string()),
    z.record(
      z.string(),
      strictObject({
        repository: z.string().optional(),
        branch: z.string().nullable().optional(),
        revision: z.string().nullable().optional(),
      }),
    ),
  ])
  .transform((input, ctx): Record<string, CodebaseConfig> => {
    const entries: [string, CodebaseConfig][] = Array.isArray(input)
      ? input.map((name) => [name, { repository: '', branch: null, revision: null }])
      : Object.entries(input).map(([name, cb]) => [
          name,
          {
            repository: cb.repository ?? '',
            branch: cb.branch ?? null,
            revision: cb.revision ?? null,
          },
        ]);
    if (entries.length === 0)
      report(ctx, 'must name at least one codebase ("" is the default one)', input);
    entries.forEach(([name], index) => {
      if (entries.findIndex(([other]) => other === name) !== index) {
        report(ctx, `codebase "${name}" is listed twice`, name, [index]);
      }
    });
    return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });

const schedulerBaseShape = {
  name: schedulerName,
  builderNames: z.array(nonEmptyString).min(1),
  properties: properties.optional(),
  codebases: codebasesSchema.optional(),
  priority: z.number().int().optional(),
};

function schedulerBase(scheduler: {
  name: string;
  builderNames: string[];
  properties?: Record<string, JsonValue> | undefined;
  codebases?: Record<string, CodebaseConfig> | undefined;
  priority?: number | undefined;
}) {
  return {
    name: scheduler.name,
    builderNames: scheduler.builderNames,
    properties: scheduler.properties ?? {},
    codebases: scheduler.codebases ?? { '': { repository: '', branch: null, revision: null } },
    priority: scheduler.priority ?? 0,
  };
}

const NO_FILTER: ChangeFilterConfig = { type: 'changeFilter', conditions: [] };

/** The change filter with a branch condition added (`branch` / `branches` options). */
function withBranches(
  filter: ChangeFilterConfig | undefined,
  branches: (string | null)[] | undefined,
): ChangeFilterConfig {
  const base = filter ?? NO_FILTER;
  if (branches === undefined) return base;
  return {
    type: 'changeFilter',
    conditions: [
      ...base.conditions,
      { field: 'branch', eq: branches, notEq: null, re: null, notRe: null },
    ],
  };
}

const changeSchedulerShape = {
  ...schedulerBaseShape,
  changeFilter: changeFilterSchema.optional(),
  treeStableTimer: duration({ nullable: true }).optional(),
  fileIsImportant: fileIsImportantSchema.optional(),
  onlyImportant: z.boolean().optional(),
  reason: z.string().optional(),
};

function defaultReason(className: string, name: string): string {
  return `The ${className} scheduler named '${name}' triggered this build`;
}

export const singleBranchSchedulerSchema = strictObject({
  type: z.literal('singleBranch'),
  ...changeSchedulerShape,
  branch: z.string().nullable().optional(),
}).transform((s, ctx): SingleBranchSchedulerConfig => {
  if (s.branch === undefined && s.changeFilter === undefined) {
    report(ctx, `${MISSING_FIELD} (give the branch to follow, or a changeFilter)`, undefined, [
      'branch',
    ]);
  }
  if (s.branch !== undefined && s.changeFilter !== undefined) {
    report(
      ctx,
      'give either branch or changeFilter, not both (put the branch in the filter)',
      s.branch,
      ['branch'],
    );
  }
  return {
    type: 'singleBranch',
    ...schedulerBase(s),
    changeFilter: withBranches(s.changeFilter, s.branch === undefined ? undefined : [s.branch]),
    treeStableTimer: s.treeStableTimer ?? null,
    fileIsImportant: s.fileIsImportant ?? null,
    onlyImportant: s.onlyImportant ?? false,
    reason: s.reason ?? defaultReason('SingleBranchScheduler', s.name),
  };
});

export const anyBranchSchedulerSchema = strictObject({
  type: z.literal('anyBranch'),
  ...changeSchedulerShape,
  branches: z.array(z.string().nullable()).min(1).optional(),
}).transform((s, ctx): AnyBranchSchedulerConfig => {
  if (s.branches !== undefined && s.changeFilter !== undefined) {
    report(
      ctx,
      'give either branches or changeFilter, not both (put the branches in the filter)',
      s.branches,
      ['branches'],
    );
  }
  return {
    type: 'anyBranch',
    ...schedulerBase(s),
    changeFilter: withBranches(s.changeFilter, s.branches),
    treeStableTimer: s.treeStableTimer ?? null,
    fileIsImportant: s.fileIsImportant ?? null,
    onlyImportant: s.onlyImportant ?? false,
    reason: s.reason ?? defaultReason('AnyBranchScheduler', s.name),
  };
});

const timedShape = {
  ...schedulerBaseShape,
  onlyIfChanged: z.boolean().optional(),
  branch: z.string().nullable().optional(),
  changeFilter: changeFilterSchema.optional(),
  fileIsImportant: fileIsImportantSchema.optional(),
  onlyImportant: z.boolean().optional(),
  reason: z.string().optional(),
};

function timedFields(
  s: {
    onlyIfChanged?: boolean | undefined;
    branch?: string | null | undefined;
    changeFilter?: ChangeFilterConfig | undefined;
    fileIsImportant?: FileIsImportantConfig | null | undefined;
    onlyImportant?: boolean | undefined;
    reason?: string | undefined;
    name: string;
  },
  className: string,
) {
  return {
    onlyIfChanged: s.onlyIfChanged ?? false,
    changeFilter: withBranches(s.changeFilter, s.branch === undefined ? undefined : [s.branch]),
    fileIsImportant: s.fileIsImportant ?? null,
    onlyImportant: s.onlyImportant ?? false,
    reason: s.reason ?? defaultReason(className, s.name),
  };
}

export const periodicSchedulerSchema = strictObject({
  type: z.literal('periodic'),
  ...timedShape,
  periodicBuildTimer: duration({ nullable: false }).optional(),
}).transform((s, ctx): PeriodicSchedulerConfig => {
  const timer = s.periodicBuildTimer;
  if (timer === undefined) {
    report(ctx, `${MISSING_FIELD} (expected a duration such as "1h")`, undefined, [
      'periodicBuildTimer',
    ]);
  } else if (timer !== null && timer <= 0) {
    report(ctx, 'must be longer than 0', timer, ['periodicBuildTimer']);
  }
  return {
    type: 'periodic',
    ...schedulerBase(s),
    ...timedFields(s, 'Periodic'),
    periodicBuildTimer: timer ?? 0,
  };
});

const cronField = z.union([
  z.string().min(1),
  z.number().int().min(0),
  z.array(z.number().int().min(0)).min(1),
]);

export const nightlySchedulerSchema = strictObject({
  type: z.literal('nightly'),
  ...timedShape,
  cron: z.string().optional(),
  minute: cronField.optional(),
  hour: cronField.optional(),
  dayOfMonth: cronField.optional(),
  month: cronField.optional(),
  dayOfWeek: cronField.optional(),
  timezone: z.enum(['local', 'UTC']).optional(),
}).transform((s, ctx): NightlySchedulerConfig => {
  const fields = {
    ...(s.minute === undefined ? {} : { minute: s.minute }),
    ...(s.hour === undefined ? {} : { hour: s.hour }),
    ...(s.dayOfMonth === undefined ? {} : { dayOfMonth: s.dayOfMonth }),
    ...(s.month === undefined ? {} : { month: s.month }),
    ...(s.dayOfWeek === undefined ? {} : { dayOfWeek: s.dayOfWeek }),
  };
  if (s.cron !== undefined && Object.keys(fields).length > 0) {
    report(
      ctx,
      `give either cron or the fields (${Object.keys(fields).join(', ')}), not both`,
      s.cron,
      ['cron'],
    );
  }
  const cron = s.cron ?? cronFromFields(fields);
  try {
    parseCron(cron);
  } catch (error) {
    if (!(error instanceof CronError)) throw error;
    report(ctx, `schedule "${cron}": ${error.message}`, cron, s.cron === undefined ? [] : ['cron']);
  }
  return {
    type: 'nightly',
    ...schedulerBase(s),
    ...timedFields(s, 'Nightly'),
    cron: cron.trim().split(/\s+/).join(' '),
    timezone: s.timezone ?? 'local',
  };
});

export const triggerableSchedulerSchema = strictObject({
  type: z.literal('triggerable'),
  ...schedulerBaseShape,
  reason: z.string().nullable().optional(),
}).transform((s): TriggerableSchedulerConfig => ({
  type: 'triggerable',
  ...schedulerBase(s),
  reason: s.reason ?? null,
}));

export const dependentSchedulerSchema = strictObject({
  type: z.literal('dependent'),
  ...schedulerBaseShape,
  upstream: nonEmptyString,
}).transform((s): DependentSchedulerConfig => ({
  type: 'dependent',
  ...schedulerBase(s),
  upstream: s.upstream,
}));

export const schedulerSchema = z.discriminatedUnion('type', [
  forceSchedulerSchema,
  singleBranchSchedulerSchema,
  anyBranchSchedulerSchema,
  periodicSchedulerSchema,
  nightlySchedulerSchema,
  triggerableSchedulerSchema,
  dependentSchedulerSchema,
]);

const gitPollerBranches = z.unknown().transform((value, ctx): GitPollerBranches => {
  if (value === true) return { kind: 'all' };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '')) {
    return { kind: 'list', names: value as string[] };
  }
  const pattern =
    typeof value === 'string'
      ? value
      : isPlainObject(value) && Object.keys(value).length === 1
        ? value.match
        : undefined;
  if (typeof pattern === 'string' && pattern !== '') {
    try {
      new RegExp(pattern, 'u');
      return { kind: 'match', pattern };
    } catch (error) {
      report(ctx, `not a valid regular expression: ${(error as Error).message}`, pattern);
      return z.NEVER;
    }
  }
  report(
    ctx,
    `expected a list of branch names, true (every branch), or a regular expression for the ref names ("^refs/heads/release/" or { match: "..." }), got ${describeValue(value)}`,
    value,
  );
  return z.NEVER;
});

export const gitPollerSchema = strictObject({
  type: z.literal('gitPoller'),
  repourl: nonEmptyString,
  name: nonEmptyString.optional(),
  branch: nonEmptyString.optional(),
  branches: gitPollerBranches.optional(),
  onlyTags: z.boolean().optional(),
  pollInterval: duration({ nullable: false }).optional(),
  pollAtLaunch: z.boolean().optional(),
  workdir: nonEmptyString.optional(),
  category: z.string().nullable().optional(),
  project: z.string().optional(),
  codebase: z.string().optional(),
  buildPushesWithNoCommits: z.boolean().optional(),
  usetimestamps: z.boolean().optional(),
  gitbin: nonEmptyString.optional(),
}).transform((poller, ctx): GitPollerConfig => {
  const defaults = CONFIG_DEFAULTS.gitPoller;
  if (poller.branch !== undefined && poller.branches !== undefined) {
    report(ctx, 'give either branch or branches, not both', poller.branch, ['branch']);
  }
  if (poller.onlyTags === true && (poller.branch !== undefined || poller.branches !== undefined)) {
    report(ctx, 'onlyTags follows tags: leave out branch and branches', true, ['onlyTags']);
  }
  const interval = poller.pollInterval ?? defaults.pollIntervalMs;
  if (interval !== null && interval <= 0)
    report(ctx, 'must be longer than 0', interval, ['pollInterval']);
  return {
    type: 'gitPoller',
    name: poller.name ?? poller.repourl,
    repourl: poller.repourl,
    branches:
      poller.branches ??
      (poller.branch !== undefined
        ? { kind: 'list', names: [poller.branch] }
        : { kind: 'list', names: [...defaults.branches] }),
    onlyTags: poller.onlyTags ?? false,
    pollInterval: interval ?? defaults.pollIntervalMs,
    pollAtLaunch: poller.pollAtLaunch ?? false,
    workdir: poller.workdir ?? defaults.workdir,
    category: poller.category ?? null,
    project: poller.project ?? '',
    codebase: poller.codebase ?? '',
    buildPushesWithNoCommits: poller.buildPushesWithNoCommits ?? false,
    usetimestamps: poller.usetimestamps ?? true,
    gitbin: poller.gitbin ?? 'git',
  };
});

export const changeSourceSchema = z.discriminatedUnion('type', [gitPollerSchema]);

export const changeHooksSchema = strictObject({
  github: strictObject({
    secret: nonEmptyString.nullable().optional(),
    strict: z.boolean().optional(),
    codebase: z.string().optional(),
    skips: z.array(regexText).optional(),
    pullrequestRef: z.enum(['merge', 'head']).optional(),
  }).optional(),
  gitlab: strictObject({
    secret: nonEmptyString.nullable().optional(),
    codebase: z.string().optional(),
  }).optional(),
  base: strictObject({
    auth: strictObject({ username: nonEmptyString, password: nonEmptyString })
      .nullable()
      .optional(),
  }).optional(),
}).transform((hooks, ctx): ChangeHooksConfig => {
  const github = hooks.github;
  const secret = github?.secret ?? null;
  if (github?.strict === true && secret === null) {
    report(ctx, 'strict needs a secret to check signatures with', true, ['github', 'strict']);
  }
  return {
    github: github
      ? {
          secret,
          strict: github.strict ?? secret !== null,
          codebase: github.codebase ?? null,
          skips: github.skips ?? [...CONFIG_DEFAULTS.changeHooks.githubSkips],
          pullrequestRef: github.pullrequestRef ?? 'merge',
        }
      : null,
    gitlab: hooks.gitlab
      ? { secret: hooks.gitlab.secret ?? null, codebase: hooks.gitlab.codebase ?? null }
      : null,
    base: hooks.base ? { auth: hooks.base.auth ?? null } : null,
  };
});

const NO_CHANGE_HOOKS: ChangeHooksConfig = { github: null, gitlab: null, base: null };

// ---------------------------------------------------------------------------------------
// Reporters
// ---------------------------------------------------------------------------------------

const reporterShape = {
  builders: z.array(nonEmptyString).nullable().optional(),
  retries: z.number().int().min(0).max(20).optional(),
  retryDelay: duration({ nullable: false }).optional(),
  timeout: duration({ nullable: false }).optional(),
};

function reporterFields(reporter: {
  builders?: string[] | null | undefined;
  retries?: number | undefined;
  retryDelay?: number | null | undefined;
  timeout?: number | null | undefined;
}): ReporterConfigBase {
  const defaults = CONFIG_DEFAULTS.reporter;
  return {
    builders: reporter.builders ?? null,
    retries: reporter.retries ?? defaults.retries,
    retryDelay: reporter.retryDelay ?? defaults.retryDelayMs,
    timeout: reporter.timeout ?? defaults.timeoutMs,
  };
}

const httpUrl = z.string().superRefine((url, ctx) => {
  if (!/^https?:\/\/[^\s/]+/.test(url)) {
    report(ctx, `expected an http:// or https:// URL, got ${describeValue(url)}`, url);
  }
});

/** A URL as a string (checked) or rendered (`interpolate`, `renderer`: checked when used). */
const renderableUrl = z.unknown().transform((value, ctx): RenderableString => {
  if (typeof value === 'string') {
    const checked = httpUrl.safeParse(value);
    if (!checked.success) {
      report(ctx, `expected an http:// or https:// URL, got ${describeValue(value)}`, value);
      return z.NEVER;
    }
    return value;
  }
  if (value === undefined) {
    report(ctx, `${MISSING_FIELD} (expected an http:// or https:// URL)`, value);
    return z.NEVER;
  }
  return checkRenderableString(value, ctx, []) ?? z.NEVER;
});

export const httpStatusPushSchema = strictObject({
  type: z.literal('httpStatusPush'),
  serverUrl: renderableUrl,
  headers: env.optional(),
  auth: strictObject({ user: z.string(), password: renderableString }).nullable().optional(),
  wantProperties: z.boolean().optional(),
  wantSteps: z.boolean().optional(),
  ...reporterShape,
}).transform((reporter): HttpStatusPushConfig => ({
  type: 'httpStatusPush',
  serverUrl: reporter.serverUrl,
  headers: reporter.headers ?? {},
  auth: reporter.auth ?? null,
  wantProperties: reporter.wantProperties ?? true,
  wantSteps: reporter.wantSteps ?? false,
  ...reporterFields(reporter),
}));

const commitStatusShape = {
  token: renderableString,
  baseURL: httpUrl.optional(),
  context: renderableString.optional(),
  ...reporterShape,
};

const DEFAULT_CONTEXT = { type: 'interpolate', format: 'buildbot/%(prop:buildername)s' } as const;

export const gitHubStatusPushSchema = strictObject({
  type: z.literal('gitHubStatusPush'),
  ...commitStatusShape,
}).transform((reporter): GitHubStatusPushConfig => ({
  type: 'gitHubStatusPush',
  token: reporter.token,
  baseURL: (reporter.baseURL ?? CONFIG_DEFAULTS.reporter.gitHubBaseURL).replace(/\/+$/, ''),
  context: reporter.context ?? { ...DEFAULT_CONTEXT },
  ...reporterFields(reporter),
}));

export const gitLabStatusPushSchema = strictObject({
  type: z.literal('gitLabStatusPush'),
  ...commitStatusShape,
}).transform((reporter): GitLabStatusPushConfig => ({
  type: 'gitLabStatusPush',
  token: reporter.token,
  baseURL: (reporter.baseURL ?? CONFIG_DEFAULTS.reporter.gitLabBaseURL).replace(/\/+$/, ''),
  context: reporter.context ?? { ...DEFAULT_CONTEXT },
  ...reporterFields(reporter),
}));

export const reporterSchema = z.discriminatedUnion('type', [
  httpStatusPushSchema,
  gitHubStatusPushSchema,
  gitLabStatusPushSchema,
]);

const secretsSchema = z.unknown().transform((value, ctx): SecretsConfig | null | undefined => {
  if (value === undefined || value === null) return value;
  if (isPlainObject(value) && value.provider === 'env') {
    return (
      parseInto(
        strictObject({ provider: z.literal('env'), prefix: z.string().optional() }).transform(
          (env): SecretsConfig => ({ provider: 'env', prefix: env.prefix ?? '' }),
        ),
        value,
        ctx,
        [],
      ) ?? z.NEVER
    );
  }
  if (isPlainObject(value) && value.provider === 'files') {
    return (
      parseInto(
        strictObject({ provider: z.literal('files'), dir: nonEmptyString }).transform(
          (files): SecretsConfig => ({ provider: 'files', dir: files.dir }),
        ),
        value,
        ctx,
        [],
      ) ?? z.NEVER
    );
  }
  report(
    ctx,
    `expected { provider: "env", prefix? } or { provider: "files", dir }, got ${describeValue(value)}`,
    value,
  );
  return z.NEVER;
});

// ---------------------------------------------------------------------------------------
// The whole config
// ---------------------------------------------------------------------------------------

export const masterConfigSchema = strictObject({
  title: nonEmptyString.optional(),
  workers: z.array(anyWorkerSchema).optional(),
  builders: z.array(builderSchema).optional(),
  schedulers: z.array(schedulerSchema).optional(),
  changeSources: z.array(changeSourceSchema).optional(),
  db: strictObject({ url: dbUrl.nullable().optional() }).optional(),
  www: strictObject({
    port: port.optional(),
    host: nonEmptyString.optional(),
    changeHooks: changeHooksSchema.optional(),
  }).optional(),
  workerPort: port.optional(),
  workerHost: nonEmptyString.optional(),
  collapseRequests: collapseRequests.optional(),
  properties: properties.optional(),
  secrets: secretsSchema.optional(),
  reporters: z.array(reporterSchema).optional(),
  buildbotURL: httpUrl.nullable().optional(),
}).transform((config): MasterConfig => {
  const collapseRequests = config.collapseRequests ?? CONFIG_DEFAULTS.collapseRequests;
  const workers = config.workers ?? [];
  return {
    title: config.title ?? CONFIG_DEFAULTS.title,
    workers: workers.filter((w): w is WorkerConfig => w.type === 'worker'),
    latentWorkers: workers.filter(
      (w): w is KubernetesLatentWorkerConfig => w.type === 'kubernetesLatentWorker',
    ),
    builders: (config.builders ?? []).map((builder) => ({
      ...builder,
      collapseRequests: builder.collapseRequests ?? collapseRequests,
    })),
    schedulers: config.schedulers ?? [],
    changeSources: config.changeSources ?? [],
    db: { url: config.db?.url ?? null },
    www: {
      port: config.www?.port ?? CONFIG_DEFAULTS.www.port,
      host: config.www?.host ?? CONFIG_DEFAULTS.www.host,
      changeHooks: config.www?.changeHooks ?? NO_CHANGE_HOOKS,
    },
    workerPort: config.workerPort ?? CONFIG_DEFAULTS.workerPort,
    workerHost: config.workerHost ?? CONFIG_DEFAULTS.workerHost,
    collapseRequests,
    properties: config.properties ?? {},
    secrets: config.secrets ?? null,
    reporters: config.reporters ?? [],
    buildbotURL: config.buildbotURL ?? null,
  };
});

/** The tag of each descriptor kind, with the words and factory used in messages. */
export const DESCRIPTOR_KINDS: Readonly<Record<string, { noun: string; factory: string }>> = {
  worker: { noun: 'worker', factory: 'worker(name, { password })' },
  kubernetesLatentWorker: {
    noun: 'kubernetes latent worker',
    factory: 'kubernetesLatentWorker(name, { image, masterAddress, maxPods })',
  },
  builder: { noun: 'builder', factory: 'builder({ ... })' },
  buildFactory: { noun: 'build factory', factory: 'buildFactory([...steps])' },
  shellCommand: { noun: 'step', factory: 'shellCommand({ command })' },
  git: { noun: 'step', factory: 'git({ repourl })' },
  force: { noun: 'scheduler', factory: 'forceScheduler({ name, builderNames })' },
  singleBranch: {
    noun: 'scheduler',
    factory: 'singleBranchScheduler({ name, builderNames, branch })',
  },
  anyBranch: { noun: 'scheduler', factory: 'anyBranchScheduler({ name, builderNames })' },
  periodic: { noun: 'scheduler', factory: 'periodic({ name, builderNames, periodicBuildTimer })' },
  nightly: { noun: 'scheduler', factory: 'nightly({ name, builderNames, cron })' },
  triggerable: { noun: 'scheduler', factory: 'triggerable({ name, builderNames })' },
  dependent: { noun: 'scheduler', factory: 'dependent({ name, builderNames, upstream })' },
  gitPoller: { noun: 'change source', factory: 'gitPoller({ repourl, branches })' },
  changeFilter: { noun: 'change filter', factory: 'changeFilter({ branch })' },
  trigger: { noun: 'step', factory: 'trigger({ schedulerNames })' },
  interpolate: { noun: 'string template', factory: "interpolate('...')" },
  renderer: { noun: 'renderer', factory: 'renderer(fn)' },
  shellSequence: { noun: 'step', factory: 'shellSequence({ commands })' },
  setProperty: { noun: 'step', factory: 'setProperty({ property, value })' },
  setPropertyFromCommand: {
    noun: 'step',
    factory: 'setPropertyFromCommand({ command, property })',
  },
  fileUpload: { noun: 'step', factory: 'fileUpload({ workersrc, masterdest })' },
  directoryUpload: { noun: 'step', factory: 'directoryUpload({ workersrc, masterdest })' },
  fileDownload: { noun: 'step', factory: 'fileDownload({ mastersrc, workerdest })' },
  stringDownload: { noun: 'step', factory: 'stringDownload({ s, workerdest })' },
  makeDirectory: { noun: 'step', factory: 'makeDirectory({ dir })' },
  removeDirectory: { noun: 'step', factory: 'removeDirectory({ dir })' },
  masterShellCommand: { noun: 'step', factory: 'masterShellCommand({ command })' },
  masterLock: { noun: 'lock', factory: 'masterLock(name)' },
  workerLock: { noun: 'lock', factory: 'workerLock(name)' },
  lockAccess: { noun: 'lock access', factory: 'lock.access(mode)' },
  httpStatusPush: { noun: 'reporter', factory: 'httpStatusPush({ serverUrl })' },
  gitHubStatusPush: { noun: 'reporter', factory: 'gitHubStatusPush({ token })' },
  gitLabStatusPush: { noun: 'reporter', factory: 'gitLabStatusPush({ token })' },
};
