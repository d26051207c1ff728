/** Choosing and configuring a places source: config schema, environment, --places, start-up errors. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { placesConfigSchema, validateHerdConfig } from '../../src/config/herd-config.js';
import { ConfigError, UsageError } from '../../src/errors.js';
import {
  CoalescingPlacesProvider,
  DEFAULT_PLACES_DATA_FILE,
  OfflinePlacesProvider,
  createPlacesProvider,
  normalizeBaseUrl,
  resolvePlacesSettings,
} from '../../src/places/index.js';
import { TEST_API_KEY } from '../helpers/google-fixtures.js';

const defaults = placesConfigSchema.parse(undefined);
const servers = [{ name: 'A', port: 0 }];

describe('places config', () => {
  test('defaults: offline with the built-in data, Google hosts, 5 s, one retry, enterprise fields, no cache', () => {
    assert.deepEqual(defaults, {
      source: 'offline',
      data: DEFAULT_PLACES_DATA_FILE,
      legacyBaseUrl: 'https://maps.googleapis.com',
      newBaseUrl: 'https://places.googleapis.com',
      timeoutMs: 5000,
      retry: true,
      newFields: 'enterprise',
      locationDecimals: 6,
      cache: { enabled: false, ttlMs: 60_000, maxEntries: 1000 },
    });
    assert.deepEqual(validateHerdConfig({ servers }, 'h.json').places, defaults);
  });

  test('partial objects get the inner defaults', () => {
    const places = validateHerdConfig(
      { servers, places: { source: 'google-new', cache: { enabled: true } } },
      'h.json',
    ).places;
    assert.equal(places.source, 'google-new');
    assert.deepEqual(places.cache, { enabled: true, ttlMs: 60_000, maxEntries: 1000 });
  });

  test('bad values name the field', () => {
    assert.throws(
      () => validateHerdConfig({ servers, places: { source: 'bing' } }, 'h.json'),
      (error: unknown) => error instanceof ConfigError && /^h\.json: places\.source: /.test(error.message),
    );
    assert.throws(
      () => validateHerdConfig({ servers, places: { newBaseUrl: 'ftp://x' } }, 'h.json'),
      /places\.newBaseUrl: must be an http/,
    );
    assert.throws(
      () => validateHerdConfig({ servers, places: { source: 'google', timeoutMs: 10_000 } }, 'h.json'),
      /places\.timeoutMs: 10000 must be less than limits\.placesTimeoutMs \(10000\)/,
    );
    // The offline source has no time budget of its own: a low server limit stays valid.
    assert.equal(
      validateHerdConfig({ servers, limits: { placesTimeoutMs: 200 } }, 'h.json').limits.placesTimeoutMs,
      200,
    );
  });

  test('a key in the config file is refused with a pointer to the environment, without echoing it', () => {
    assert.throws(
      () => validateHerdConfig({ servers, places: { source: 'google', apiKey: TEST_API_KEY } }, 'h.json'),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message ===
          'h.json: places.apiKey: the Google API key is read only from the environment variable GOOGLE_PLACES_API_KEY; remove it from the config file',
    );
  });
});

describe('resolvePlacesSettings', () => {
  test('offline needs nothing from the environment', () => {
    assert.deepEqual(resolvePlacesSettings(defaults, {}), { source: 'offline', dataFile: DEFAULT_PLACES_DATA_FILE });
  });

  test('a Google source without a key is a UsageError naming the variable', () => {
    for (const env of [{}, { GOOGLE_PLACES_API_KEY: '' }, { GOOGLE_PLACES_API_KEY: '  ' }]) {
      assert.throws(
        () => resolvePlacesSettings(defaults, env, 'google-new'),
        (error: unknown) =>
          error instanceof UsageError &&
          error.message ===
            'places source google-new needs a Google API key: set the environment variable GOOGLE_PLACES_API_KEY (see docs/places.md)',
      );
    }
  });

  test('--places wins over the config; the key and base URL come from the environment', () => {
    const env = {
      GOOGLE_PLACES_API_KEY: TEST_API_KEY,
      GOOGLE_PLACES_NEW_URL: 'http://127.0.0.1:9999/prefix/',
      GOOGLE_PLACES_LEGACY_URL: 'http://127.0.0.1:8888',
    };
    const settings = resolvePlacesSettings({ ...defaults, source: 'google' }, env, 'google-new');
    assert.equal(settings.source, 'google-new');
    assert.equal(settings.apiKey, TEST_API_KEY);
    assert.equal(settings.baseUrl, 'http://127.0.0.1:9999/prefix');
    const legacy = resolvePlacesSettings({ ...defaults, source: 'google' }, env);
    assert.ok(legacy.source === 'google');
    assert.equal(legacy.baseUrl, 'http://127.0.0.1:8888');
  });

  test('without overrides the configured base URLs are used', () => {
    const settings = resolvePlacesSettings(
      { ...defaults, source: 'google' },
      { GOOGLE_PLACES_API_KEY: TEST_API_KEY, GOOGLE_PLACES_LEGACY_URL: '' },
    );
    assert.ok(settings.source === 'google');
    assert.equal(settings.baseUrl, 'https://maps.googleapis.com');
  });

  test('an unusable base URL in the environment is a UsageError naming the variable', () => {
    assert.throws(
      () =>
        resolvePlacesSettings(
          defaults,
          { GOOGLE_PLACES_API_KEY: TEST_API_KEY, GOOGLE_PLACES_NEW_URL: 'places.example.com' },
          'google-new',
        ),
      /^UsageError: GOOGLE_PLACES_NEW_URL: "places\.example\.com" is not a usable base URL/,
    );
  });

  test('normalizeBaseUrl', () => {
    assert.equal(normalizeBaseUrl('https://places.googleapis.com/'), 'https://places.googleapis.com');
    assert.equal(normalizeBaseUrl('http://proxy:8080/a/b//'), 'http://proxy:8080/a/b');
    assert.equal(normalizeBaseUrl('http://user:pw@proxy'), undefined);
    assert.equal(normalizeBaseUrl('http://proxy/?key=1'), undefined);
    assert.equal(normalizeBaseUrl('file:///etc/passwd'), undefined);
  });
});

describe('createPlacesProvider', () => {
  test('offline answers from places.data; Google sources come behind coalescing', async () => {
    const offline = createPlacesProvider({ ...defaults, data: '/some/where.places' }, { env: {} });
    assert.ok(offline instanceof OfflinePlacesProvider);
    assert.equal(offline.file, '/some/where.places');
    const env = { GOOGLE_PLACES_API_KEY: TEST_API_KEY };
    for (const source of ['google', 'google-new'] as const) {
      const places = createPlacesProvider(defaults, { env, source });
      assert.ok(places instanceof CoalescingPlacesProvider);
      assert.equal(places.source, source);
      await places.close?.();
    }
  });

  test('a Google source without a key throws before anything is built', () => {
    assert.throws(() => createPlacesProvider({ ...defaults, source: 'google' }, { env: {} }), UsageError);
  });
});
