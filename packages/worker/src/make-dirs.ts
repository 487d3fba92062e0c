/**
 * `mkdir -p` as Python's os.makedirs(path, exist_ok=True) does it. Node's own
 * `mkdir(path, { recursive: true })` never returns for some impossible paths (for example
 * under /proc), so the worker creates each missing parent itself.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

export async function makeDirs(dir: string): Promise<void> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  if (parent !== target && !(await exists(parent))) await makeDirs(parent);
  try {
    await mkdir(target);
  } catch (error) {
    if (!(await isDirectory(target))) throw error;
  }
}

export function makeDirsSync(dir: string): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  if (parent !== target && statSync(parent, { throwIfNoEntry: false }) === undefined) {
    makeDirsSync(parent);
  }
  try {
    mkdirSync(target);
  } catch (error) {
    if (!statSync(target, { throwIfNoEntry: false })?.isDirectory()) throw error;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
