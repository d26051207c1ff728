/**
 * Config sections whose defaults live in their module (`DEFAULT_LINK_SETTINGS`,
 * `DEFAULT_SERVER_LIMITS`, `DEFAULT_DASHBOARD_SETTINGS`): the schema only checks the fields a file
 * gives, and the section is completed by {@link withDefaults}, the one place those defaults are
 * applied.
 */
import * as z from 'zod';
import { withDefaults } from '../core/settings.js';

/**
 * The schema of a section of settings `T`: each field optional and checked by its entry in `fields`
 * (which must name every field of `T`), an absent section read as `{}`, unknown keys refused; the
 * output is the complete, frozen set, with what the file leaves out taken from `defaults`.
 */
export function settingsSection<T extends object>(
  defaults: Readonly<T>,
  fields: { readonly [K in keyof T]-?: z.ZodType<T[K]> },
) {
  const shape: Record<string, z.ZodOptional<z.ZodType>> = {};
  for (const [key, field] of Object.entries<z.ZodType>(fields)) shape[key] = field.optional();
  return z
    .strictObject(shape)
    .prefault({})
    .transform((given) => withDefaults(defaults, given as Partial<T>));
}
