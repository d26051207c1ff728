/**
 * The `admin` section of the herd config: who may read the admin ports (docs/operations.md "The admin
 * port's tokens"). One section for the whole herd: every member's admin port takes the same tokens,
 * so `herd status` and each dashboard can read all of them.
 */
import path from 'node:path';
import * as z from 'zod';

/** The schema of the config's `admin` object. */
export const adminConfigSchema = z
  .strictObject({
    /**
     * File holding the admin token (at least 16 bytes): once set, every admin route but `/live` and
     * the dashboard page's own files needs `Authorization: Bearer <token>`. The environment variables
     * HERD_ADMIN_TOKEN and HERD_ADMIN_TOKEN_FILE take precedence.
     */
    tokenFile: z.string().min(1).optional(),
    /**
     * File holding a second token for the routes that show client locations (the dashboard's
     * `/clients`, `/client`, `/events`): once set, only this token reads them, and it reads every
     * other route too. HERD_ADMIN_LOCATIONS_TOKEN and HERD_ADMIN_LOCATIONS_TOKEN_FILE take precedence.
     */
    locationsTokenFile: z.string().min(1).optional(),
    /** Let `herd serve` bind an admin port on a non-loopback address without an admin token. */
    allowUnauthenticated: z.boolean().default(false),
  })
  .prefault({});

/** A validated `admin` section. */
export type AdminConfig = z.output<typeof adminConfigSchema>;

/** Resolves the section's files against the config's own folder `here` (in place). */
export function resolveAdminFiles(admin: AdminConfig, here: string): void {
  if (admin.tokenFile !== undefined) admin.tokenFile = path.resolve(here, admin.tokenFile);
  if (admin.locationsTokenFile !== undefined) admin.locationsTokenFile = path.resolve(here, admin.locationsTokenFile);
}
