/**
 * The alert rules and the scrape config of deploy/prometheus/, against Debian's real Prometheus:
 * `promtool check rules` and `promtool test rules` (a unit test of every alert), then a Prometheus on
 * loopback with the shipped scrape config (its intervals shortened, its targets and token file
 * pointed at a herd started here with admin tokens) that sees `up == 1` for all five servers through
 * the token, 401 without it, and `HerdServerDown` pending once one server is killed.
 *
 * Without Prometheus the suite is skipped with one line, unless HERD_REQUIRE_PROMETHEUS is set (CI
 * sets it, and installs the package): then it fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { DEFAULT_SERVERS, RunningHerd, tempHerdConfig, waitUntil } from '../helpers/herd-process.js';
import { QUIET_LOG } from '../helpers/herd-config-options.js';
import {
  PROMETHEUS_DIR,
  prometheusMissing,
  prometheusRequired,
  promtool,
  startPrometheus,
  type RunningPrometheus,
} from '../helpers/prometheus.js';

const missing = prometheusMissing();
if (missing !== undefined && prometheusRequired())
  throw new Error(`the Prometheus tests must run (HERD_REQUIRE_PROMETHEUS is set) but ${missing}`);
if (missing !== undefined) process.stdout.write(`# Prometheus tests skipped: ${missing}\n`);

const ADMIN_TOKEN = 'prometheus-test-admin-token-0123';
const LOCATIONS_TOKEN = 'prometheus-test-locations-token-0123';
/** The test's scrape and rule evaluation interval (the shipped config says 15s). */
const INTERVAL = '1s';

describe('the alert rules', { skip: missing }, () => {
  test('promtool check rules accepts herd-rules.yml', async () => {
    const { code, output } = await promtool(['check', 'rules', 'herd-rules.yml']);
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS: 7 rules found/);
  });

  test('promtool test rules: every alert fires where it should and stays silent where it should not', async () => {
    const { code, output } = await promtool(['test', 'rules', 'herd-rules.test.yml']);
    assert.equal(code, 0, output);
    const tests = parse(await readFile(path.join(PROMETHEUS_DIR, 'herd-rules.test.yml'), 'utf8')) as {
      tests: { alert_rule_test: { alertname: string }[] }[];
    };
    const rules = parse(await readFile(path.join(PROMETHEUS_DIR, 'herd-rules.yml'), 'utf8')) as {
      groups: { rules: { alert: string }[] }[];
    };
    const tested = new Set(tests.tests.flatMap((each) => each.alert_rule_test.map((check) => check.alertname)));
    const alerts = rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert));
    assert.equal(alerts.length, 7);
    for (const alert of alerts) assert.ok(tested.has(alert), `${alert} has a unit test`);
  });
});

interface ScrapeConfig {
  job_name: string;
  authorization?: { type?: string; credentials_file?: string };
  static_configs: { targets: string[] }[];
}

interface Target {
  labels: { job: string; instance: string };
  health: string;
  lastError: string;
}

describe('a real Prometheus on the shipped scrape config', { skip: missing, timeout: 120_000 }, () => {
  let herd: RunningHerd;
  let temp: Awaited<ReturnType<typeof tempHerdConfig>>;
  let prometheus: RunningPrometheus | undefined;
  const instances = new Map<string, string>();

  before(async () => {
    // No log line is read; the store stays durable (its series are scraped and alerted on).
    temp = await tempHerdConfig({ admin: true, extra: QUIET_LOG });
    herd = await RunningHerd.start(temp.configFile, ['--no-restart'], {
      ...process.env,
      HERD_ADMIN_TOKEN: ADMIN_TOKEN,
      HERD_ADMIN_LOCATIONS_TOKEN: LOCATIONS_TOKEN,
    });
    for (const [name, info] of herd.servers) instances.set(name, new URL(info.adminUrl as string).host);
    // The shipped config, with what differs here: intervals, targets, the token file, the rules' path.
    const tokenFile = path.join(temp.dir, 'herd-admin-token');
    await writeFile(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    const config = parse(await readFile(path.join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: ScrapeConfig[];
    };
    config.global = {
      ...config.global,
      scrape_interval: INTERVAL,
      evaluation_interval: INTERVAL,
      scrape_timeout: INTERVAL,
    };
    config.rule_files = config.rule_files.map((file) => path.join(PROMETHEUS_DIR, file));
    const job = config.scrape_configs.find((each) => each.job_name === 'herd');
    assert.ok(job?.authorization?.credentials_file !== undefined, 'the herd job reads its token from a file');
    job.authorization.credentials_file = tokenFile;
    job.static_configs = [{ targets: [...instances.values()] }];
    // The same target without the token, to see it refused.
    config.scrape_configs.push({
      job_name: 'herd-without-token',
      static_configs: [{ targets: [instances.get('Alford') as string] }],
    });
    const configFile = path.join(temp.dir, 'prometheus.yml');
    await writeFile(configFile, stringify(config));
    const check = await promtool(['check', 'config', configFile], temp.dir);
    assert.equal(check.code, 0, check.output);
    prometheus = await startPrometheus(configFile);
  });

  after(async () => {
    await prometheus?.stop();
    await herd?.stop();
    await temp?.cleanup();
  });

  test('scrapes all five servers through the admin token (up == 1), and is refused without it', async () => {
    const running = prometheus as RunningPrometheus;
    await waitUntil(
      async () => {
        const up = await running.api<{ result: { value: [number, string] }[] }>(
          `query?query=${encodeURIComponent('up{job="herd"} == 1')}`,
        );
        return up.result.length === DEFAULT_SERVERS.length;
      },
      20_000,
      'up == 1 for all five',
    );
    // Prometheus's own view of the target without the token: down, for a 401.
    const refused = await waitUntil(
      async () =>
        (await running.api<{ activeTargets: Target[] }>('targets?state=active')).activeTargets.find(
          (target) => target.labels.job === 'herd-without-token' && target.health === 'down',
        ),
      10_000,
      'the scrape without a token to fail',
    );
    assert.match(refused.lastError, /401 Unauthorized/);
  });

  test('a killed server: HerdServerDown pending for its instance, and for it alone', async () => {
    const running = prometheus as RunningPrometheus;
    herd.kill('Holiday');
    const victim = instances.get('Holiday') as string;
    interface Alert {
      labels: { alertname: string; instance?: string };
      state: string;
    }
    const alerts = await waitUntil(
      async () => {
        const { alerts: all } = await running.api<{ alerts: Alert[] }>('alerts');
        const down = all.filter((alert) => alert.labels.alertname === 'HerdServerDown');
        return down.length > 0 ? down : undefined;
      },
      20_000,
      'HerdServerDown',
    );
    assert.deepEqual(
      alerts.map((alert) => [alert.labels.instance, alert.state]),
      [[victim, 'pending']],
    );
  });
});
