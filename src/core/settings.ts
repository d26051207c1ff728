/** Completing partial settings objects: the one way a default is applied to a partial set. */

/**
 * `defaults` with every field of `overrides` that is not `undefined` put over it, frozen. Used for
 * server limits (src/server/limits.ts) and link settings (src/peers/link-settings.ts), so that a
 * default is applied in exactly one place.
 */
export function withDefaults<T extends object>(defaults: Readonly<T>, overrides: Partial<T> = {}): Readonly<T> {
  const out = { ...defaults } as T;
  for (const key of Object.keys(overrides) as (keyof T)[]) {
    const value = overrides[key];
    if (value !== undefined) out[key] = value;
  }
  return Object.freeze(out);
}
