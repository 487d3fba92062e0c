/**
 * The message bus interface: every change the data layer makes is published as an
 * event with a Buildbot-style routing key such as `['builds', '12', 'finished']`.
 * Subscribers give a pattern of the same length where `*` matches any one part.
 */
export type EventKey = readonly string[];
export type EventHandler = (key: EventKey, message: unknown) => void;

export interface Subscription {
  unsubscribe(): void;
}

export interface Bus {
  publish(key: EventKey, message: unknown): void;
  /**
   * Publishes one message under several keys (a build by id, by builder, by worker):
   * delivered as one `publish` per key, in order, but stored and sent between masters
   * once.
   */
  publishAll(keys: readonly EventKey[], message: unknown): void;
  subscribe(pattern: readonly string[], handler: EventHandler): Subscription;
  close(): Promise<void>;
}

export function keyMatches(pattern: readonly string[], key: EventKey): boolean {
  if (pattern.length !== key.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i];
    if (part !== '*' && part !== key[i]) return false;
  }
  return true;
}
