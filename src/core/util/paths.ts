/**
 * Paths built from ids: every id that becomes a path segment passes the
 * shared safe-id rule, and the joined path is resolved and checked to lie
 * strictly inside its folder. Both checks, so that neither a schema slip nor
 * an odd path (`.`, `..`, a separator) can point a delete or a rename at
 * the lab directory itself or outside it.
 */
import * as path from 'node:path';
import { LabError } from '../../shared/contract.js';
import { isSafeId } from '../../shared/domain.js';

/** True when `child` lies strictly inside `root` (after resolving both). */
export function isInside(root: string, child: string): boolean {
  const r = path.resolve(root);
  const c = path.resolve(child);
  return c !== r && c.startsWith(r.endsWith(path.sep) ? r : r + path.sep);
}

/** `root/<id>` for a safe id, checked to stay inside `root`; a LabError otherwise. */
export function idPath(root: string, id: string, what = 'id'): string {
  if (!isSafeId(id)) throw new LabError('invalid_payload', `unsafe ${what} '${String(id).slice(0, 80)}': ${what}s are letters, digits and _ . - (starting with a letter, digit or _)`);
  const p = path.join(root, id);
  if (!isInside(root, p)) throw new LabError('invalid_payload', `${what} '${id}' points outside its folder`);
  return p;
}
