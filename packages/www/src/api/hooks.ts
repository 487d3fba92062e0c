/** Reads several pages share, with the live-event paths that keep them fresh. */
import type { Builder, Collection, Worker } from './types.js';
import { useApi } from './store.js';

export function useBuilders() {
  return useApi<Collection<'builders', Builder>>('/builders');
}

export function useWorkers() {
  return useApi<Collection<'workers', Worker>>('/workers', { live: ['workers/*/*'] });
}

/** `id → entity` for lookups by id. */
export function byId<T>(items: readonly T[] | undefined, id: (item: T) => number): Map<number, T> {
  return new Map((items ?? []).map((item) => [id(item), item]));
}
