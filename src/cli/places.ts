/**
 * `herd places import <file...> --out <data-file>`: the command line of the importer
 * (src/places/import/import-places.ts): a progress bar on a terminal (cli-progress), the summary on
 * stdout, Ctrl-C removes the temporary files. The importer loads only when the command runs.
 */
import { Command } from 'commander';
import type { ImportProgress, ImportSummary } from '../places/import/import-places.js';

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * The report printed after an import: features read and kept, skipped ones by reason (with the first
 * message of each kind of invalid one), the file written and its attributions.
 */
export function formatImportSummary(summary: ImportSummary): string {
  const seconds = summary.readMs / 1000;
  const rate = seconds > 0 ? summary.read / seconds : 0;
  const lines = [
    `read ${count(summary.read)} features from ${summary.inputs.length} input${summary.inputs.length === 1 ? '' : 's'} in ${seconds.toFixed(1)} s (${count(rate)} features/s)`,
  ];
  for (const input of summary.inputs) {
    if (input.kind === 'admin1' || input.kind === 'admin2') {
      lines.push(`  ${input.file}: ${input.kind} names`);
      continue;
    }
    const skippedHere = Object.values(input.skipped).reduce((a, b) => a + b, 0);
    lines.push(`  ${input.file}: ${count(input.read)} read, ${count(input.kept)} kept, ${count(skippedHere)} skipped`);
  }
  const skipped = Object.entries(summary.skipped).sort(([, a], [, b]) => b - a);
  const nearest = summary.nearestVicinities;
  lines.push(
    `kept ${count(summary.kept)}${nearest === 0 ? '' : ` (${count(nearest)} with the nearest town as vicinity)`}`,
  );
  lines.push(`skipped ${count(skipped.reduce((sum, [, n]) => sum + n, 0))}${skipped.length === 0 ? '' : ':'}`);
  for (const [reason, n] of skipped) {
    const example = summary.examples[reason];
    lines.push(`  ${reason}: ${count(n)}${example === undefined ? '' : ` (first: ${example})`}`);
  }
  const megabytes = (summary.bytes / 1048576).toFixed(1);
  lines.push(
    `wrote ${summary.out}: ${count(summary.header.count)} places, ${megabytes} MB, in ${(summary.totalMs / 1000).toFixed(1)} s`,
  );
  for (const attribution of summary.header.attributions) lines.push(`  attribution: ${attribution}`);
  return `${lines.join('\n')}\n`;
}

/** A cli-progress bar on stderr: bytes read with features and rate, then places written. */
async function terminalProgress(): Promise<ImportProgress> {
  const { SingleBar, Presets } = (await import('cli-progress')).default;
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: '{phase} [{bar}] {percentage}% | {features} | {rate}/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      // The merge runs in long synchronous stretches: draw on update, not only on a timer.
      synchronousUpdate: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  let started = 0;
  let running = false;
  const payload = (phase: string, features: number): Record<string, string> => {
    const seconds = (performance.now() - started) / 1000;
    return { phase, features: `${count(features)} features`, rate: count(seconds > 0 ? features / seconds : 0) };
  };
  return {
    reading(totalBytes) {
      started = performance.now();
      running = true;
      bar.start(Math.max(1, totalBytes), 0, payload('reading', 0));
    },
    read(bytes, features) {
      bar.update(bytes, payload('reading', features));
    },
    writing(places) {
      bar.stop();
      started = performance.now();
      bar.start(Math.max(1, places), 0, payload('writing', 0));
    },
    written(places) {
      bar.update(places, payload('writing', places));
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/** Builds the `places` command (`places import`). */
export function placesCommand(): Command {
  const places = new Command('places').description('offline places data: build a data file for places.data');
  places
    .command('import')
    .description(
      'build one offline places data file from GeoNames dumps (.txt, .zip; admin1CodesASCII.txt and admin2Codes.txt for vicinity names) and GeoJSON FeatureCollections of Points',
    )
    .argument('<files...>', 'inputs, in any mix')
    .requiredOption('-o, --out <file>', 'the data file to write (replaced only when the import succeeds)')
    .option('--skip-invalid', 'count and report malformed lines and features instead of stopping at the first')
    .option('--attribution <html>', 'html_attributions entry for the GeoJSON inputs (default: OpenStreetMap, ODbL)')
    .option('--tmp-dir <dir>', 'folder for the temporary sorted runs (default: the folder of --out)')
    .addHelpText(
      'after',
      `
Examples:
  herd places import US.zip admin1CodesASCII.txt admin2Codes.txt --out us.places
  herd places import allCountries.zip --out world.places --skip-invalid
  herd places import pois.geojson --attribution '&copy; My City' --out city.places
  herd start --places-data us.places`,
    )
    .action(
      async (
        files: string[],
        options: { out: string; skipInvalid?: boolean; attribution?: string; tmpDir?: string },
      ) => {
        const { importPlaces } = await import('../places/import/import-places.js');
        const controller = new AbortController();
        const onSignal = (): void => controller.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          const summary = await importPlaces({
            inputs: files,
            out: options.out,
            skipInvalid: options.skipInvalid === true,
            attribution: options.attribution,
            tmpDir: options.tmpDir,
            progress: process.stderr.isTTY ? await terminalProgress() : undefined,
            signal: controller.signal,
          });
          process.stdout.write(formatImportSummary(summary));
        } catch (error) {
          if (!controller.signal.aborted) throw error;
          // Interrupted: the temporary files are gone; the conventional exit code of SIGINT.
          process.stderr.write(`herd: places import interrupted; nothing written to ${options.out}\n`);
          process.exitCode = 130;
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    );
  return places;
}
