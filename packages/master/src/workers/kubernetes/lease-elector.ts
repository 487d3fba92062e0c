/**
 * Holds a coordination.k8s.io/v1 Lease so that one master at a time starts pods for a
 * latent worker (the others would start pods for the same pending requests).
 *
 * States: follower → leader (created the lease, or took it over once it expired) →
 * follower (lost a renewal race, or `stop`). A leader renews every `renewMs`; it counts
 * as leader only while its last renewal is younger than the lease duration, so two
 * masters never both believe they lead for longer than one renewal. `stop` hands the
 * lease over at once (holder cleared) instead of letting it expire.
 */
import type { Logger } from '../../logger.js';
import type { KubeClient, LeaseObject } from './kube-client.js';

export interface LeaseElectorOptions {
  leaseName: string;
  identity: string;
  durationSeconds?: number;
  renewMs?: number;
  now?: () => number;
}

function timeOf(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return Number.NaN;
}

export class LeaseElector {
  private renewedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly durationSeconds: number;
  private readonly renewMs: number;
  private readonly now: () => number;
  private onChange: (() => void) | null = null;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaseElectorOptions,
    private readonly log: Logger,
  ) {
    this.durationSeconds = options.durationSeconds ?? 15;
    this.renewMs = options.renewMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  get isLeader(): boolean {
    return !this.stopped && this.now() - this.renewedAt < this.durationSeconds * 1000;
  }

  /** Tries once, then keeps trying every `renewMs`. */
  async start(onChange: () => void): Promise<void> {
    this.onChange = onChange;
    await this.attempt();
    this.timer = setInterval(() => {
      this.running ??= this.attempt().finally(() => {
        this.running = null;
      });
    }, this.renewMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    if (this.renewedAt === 0) return;
    try {
      const lease = await this.client.getLease(this.options.leaseName);
      if (lease?.spec?.holderIdentity === this.options.identity) {
        await this.client.writeLease(
          { ...lease, spec: { ...lease.spec, holderIdentity: null } },
          false,
        );
      }
    } catch (error) {
      this.log.warn({ err: error }, `handing over lease ${this.options.leaseName} failed`);
    }
    this.renewedAt = 0;
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    const wasLeader = this.isLeader;
    try {
      const lease = await this.client.getLease(this.options.leaseName);
      const now = this.now();
      const spec = lease?.spec ?? {};
      const holder = spec.holderIdentity ?? null;
      const expired =
        holder === null ||
        holder === '' ||
        now - timeOf(spec.renewTime) > (spec.leaseDurationSeconds ?? this.durationSeconds) * 1000;
      if (lease !== null && holder !== this.options.identity && !expired) {
        this.renewedAt = 0;
      } else {
        const body: LeaseObject = {
          metadata: {
            name: this.options.leaseName,
            ...(lease?.metadata?.resourceVersion
              ? { resourceVersion: lease.metadata.resourceVersion }
              : {}),
          },
          spec: {
            holderIdentity: this.options.identity,
            leaseDurationSeconds: this.durationSeconds,
            renewTime: new Date(now),
            acquireTime: holder === this.options.identity ? spec.acquireTime : new Date(now),
            leaseTransitions:
              (spec.leaseTransitions ?? 0) + (holder === this.options.identity ? 0 : 1),
          },
        };
        if (holder === this.options.identity && spec.acquireTime !== undefined) {
          body.spec = { ...body.spec, acquireTime: new Date(timeOf(spec.acquireTime)) };
        }
        const written = await this.client.writeLease(body, lease === null);
        this.renewedAt = written === null ? 0 : now;
      }
    } catch (error) {
      this.log.warn({ err: error }, `renewing lease ${this.options.leaseName} failed; will retry`);
    }
    if (wasLeader !== this.isLeader) {
      this.log.info(
        { lease: this.options.leaseName },
        this.isLeader
          ? `this master now starts the pods of ${this.options.leaseName}`
          : `another master starts the pods of ${this.options.leaseName}`,
      );
      this.onChange?.();
    }
  }
}
