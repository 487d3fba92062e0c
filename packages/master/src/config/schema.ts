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
import type {
  BuildFactoryConfig,
  BuilderConfig,
  ForceParameter,
  ForceSchedulerConfig,
  GitMethod,
  GitStepConfig,
  InterpolateDescriptor,
  JsonValue,
  KubernetesLatentWorkerConfig,
  MasterConfig,
  RenderableString,
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

/** A string or `interpolate('...')` at `path`; `undefined` (and an issue) otherwise. */
function checkRenderableString(
  value: unknown,
  ctx: IssueSink,
  path: PropertyKey[],
): RenderableString | undefined {
  if (typeof value === 'string') return value;
  if (isInterpolate(value)) return checkInterpolate(value, ctx, path);
  report(ctx, `expected a string, got ${describeValue(value)}`, value, path);
  return undefined;
}

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

/** RFC 1123 label: pod names are `<name>-<5 random characters>`, at most 63 in all. */
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

const stepShape = {
  name: nonEmptyString.optional(),
  description: z.string().nullable().optional(),
  descriptionDone: z.string().nullable().optional(),
  haltOnFailure: z.boolean().optional(),
  flunkOnFailure: z.boolean().optional(),
  warnOnFailure: z.boolean().optional(),
  alwaysRun: z.boolean().optional(),
  workdir: nonEmptyString.optional(),
  env: env.optional(),
  timeout: duration({ nullable: true }).optional(),
  maxTime: duration({ nullable: true }).optional(),
  logEnviron: z.boolean().optional(),
};

interface ParsedStepFields {
  description?: string | null | undefined;
  descriptionDone?: string | null | undefined;
  haltOnFailure?: boolean | undefined;
  flunkOnFailure?: boolean | undefined;
  warnOnFailure?: boolean | undefined;
  alwaysRun?: boolean | undefined;
  workdir?: string | undefined;
  env?: Record<string, RenderableString> | undefined;
  timeout?: number | null | undefined;
  maxTime?: number | null | undefined;
  logEnviron?: boolean | undefined;
}

function stepFields(step: ParsedStepFields, haltOnFailure: boolean): Omit<StepConfigBase, 'name'> {
  const defaults = CONFIG_DEFAULTS.step;
  return {
    description: step.description ?? null,
    descriptionDone: step.descriptionDone ?? null,
    haltOnFailure: step.haltOnFailure ?? haltOnFailure,
    flunkOnFailure: step.flunkOnFailure ?? defaults.flunkOnFailure,
    warnOnFailure: step.warnOnFailure ?? defaults.warnOnFailure,
    alwaysRun: step.alwaysRun ?? defaults.alwaysRun,
    workdir: step.workdir ?? defaults.workdir,
    env: step.env ?? {},
    timeout: step.timeout === undefined ? defaults.timeoutMs : step.timeout,
    maxTime: step.maxTime ?? null,
    logEnviron: step.logEnviron ?? defaults.logEnviron,
  };
}

/** The text a renderable starts from: the string, or the format of `interpolate(...)`. */
function templateText(value: RenderableString | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.format;
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

export const shellCommandSchema = strictObject({
  type: z.literal('shellCommand'),
  ...stepShape,
  command,
  wantStdout: z.boolean().optional(),
  wantStderr: z.boolean().optional(),
}).transform((step): ShellCommandStepConfig => ({
  type: 'shellCommand',
  name: step.name ?? defaultShellCommandName(step.command),
  command: step.command,
  wantStdout: step.wantStdout ?? CONFIG_DEFAULTS.shellCommand.wantStdout,
  wantStderr: step.wantStderr ?? CONFIG_DEFAULTS.shellCommand.wantStderr,
  ...stepFields(step, CONFIG_DEFAULTS.step.haltOnFailure),
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

export const stepSchema = z.discriminatedUnion('type', [shellCommandSchema, gitSchema]);

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
type ParsedBuilder = Omit<BuilderConfig, 'collapseRequests'> & { collapseRequests: boolean | null };

export const builderSchema = strictObject({
  type: z.literal('builder').optional(),
  name: builderName,
  workerNames: z.array(nonEmptyString).min(1),
  factory: buildFactorySchema,
  tags: z.array(nonEmptyString).optional(),
  description: z.string().nullable().optional(),
  collapseRequests: z.boolean().optional(),
  properties: properties.optional(),
  priority: z.number().int().optional(),
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
}));

// ---------------------------------------------------------------------------------------
// Schedulers
// ---------------------------------------------------------------------------------------

const parameterShape = {
  name: parameterName,
  label: z.string().optional(),
  required: z.boolean().optional(),
};

export const forceParameterSchema = z.discriminatedUnion('type', [
  strictObject({
    type: z.literal('string'),
    ...parameterShape,
    default: z.string().optional(),
  }).transform((parameter): ForceParameter => ({
    type: 'string',
    name: parameter.name,
    label: parameter.label ?? parameter.name,
    default: parameter.default ?? '',
    required: parameter.required ?? false,
  })),
  strictObject({
    type: z.literal('int'),
    ...parameterShape,
    default: z.number().int().optional(),
  }).transform((parameter): ForceParameter => ({
    type: 'int',
    name: parameter.name,
    label: parameter.label ?? parameter.name,
    default: parameter.default ?? 0,
    required: parameter.required ?? false,
  })),
  strictObject({
    type: z.literal('bool'),
    ...parameterShape,
    default: z.boolean().optional(),
  }).transform((parameter): ForceParameter => ({
    type: 'bool',
    name: parameter.name,
    label: parameter.label ?? parameter.name,
    default: parameter.default ?? false,
    required: parameter.required ?? false,
  })),
]);

export const forceSchedulerSchema = strictObject({
  type: z.literal('force'),
  name: schedulerName,
  builderNames: z.array(nonEmptyString).min(1),
  reason: z.string().optional(),
  properties: z.array(forceParameterSchema).optional(),
}).transform((scheduler): ForceSchedulerConfig => ({
  type: 'force',
  name: scheduler.name,
  builderNames: scheduler.builderNames,
  reason: scheduler.reason ?? CONFIG_DEFAULTS.forceScheduler.reason,
  properties: scheduler.properties ?? [],
}));

export const schedulerSchema = z.discriminatedUnion('type', [forceSchedulerSchema]);

// ---------------------------------------------------------------------------------------
// The whole config
// ---------------------------------------------------------------------------------------

export const masterConfigSchema = strictObject({
  title: nonEmptyString.optional(),
  workers: z.array(anyWorkerSchema).optional(),
  builders: z.array(builderSchema).optional(),
  schedulers: z.array(schedulerSchema).optional(),
  db: strictObject({ url: dbUrl.nullable().optional() }).optional(),
  www: strictObject({ port: port.optional(), host: nonEmptyString.optional() }).optional(),
  workerPort: port.optional(),
  workerHost: nonEmptyString.optional(),
  collapseRequests: z.boolean().optional(),
  properties: properties.optional(),
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
    db: { url: config.db?.url ?? null },
    www: {
      port: config.www?.port ?? CONFIG_DEFAULTS.www.port,
      host: config.www?.host ?? CONFIG_DEFAULTS.www.host,
    },
    workerPort: config.workerPort ?? CONFIG_DEFAULTS.workerPort,
    workerHost: config.workerHost ?? CONFIG_DEFAULTS.workerHost,
    collapseRequests,
    properties: config.properties ?? {},
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
  interpolate: { noun: 'string template', factory: "interpolate('...')" },
};
