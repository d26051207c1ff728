/**
 * The dashboard's country outlines: Natural Earth's 1:110m countries from the `world-atlas` package
 * (TopoJSON), turned into GeoJSON with `topojson-client` and cut at the antimeridian with `d3-geo`,
 * once, at build time (./build-world.ts writes `COUNTRIES_FILE`, which the dashboard serves as a
 * file; a server never loads this module).
 *
 * world-atlas is made for a renderer that draws on a sphere: a ring of Russia, Fiji or Antarctica
 * goes from 179.9 E to 179.9 W in one step, a short great-circle arc. A flat map (Leaflet) draws that
 * step as a line across the whole world. So every geometry is streamed through d3-geo's
 * `geoEquirectangular` projection, whose pre-clip is `geoClipAntimeridian`: it splits each ring where
 * it crosses 180 degrees and closes the pieces along the antimeridian (and, for a ring around a pole
 * such as Antarctica's, along the pole line). The projection is set up as the identity on degrees
 * (scale 180/pi, no translation, no resampling), so what comes out is longitude and minus latitude.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { geoEquirectangular, geoStream, type GeoStream } from 'd3-geo';
import topojson from 'topojson-client';
import type { Topology, GeometryCollection } from 'topojson-specification';
import type { FeatureCollection, Feature, Geometry, MultiPolygon, Position } from 'geojson';

/** Decimal places kept in the served outlines (about 100 m; the 1:110m data is coarser). */
export const OUTLINE_DECIMALS = 3;

/** A country outline as served: its name and the rings cut at the antimeridian. */
export type CountryFeature = Feature<MultiPolygon, { readonly name: string }>;

type Ring = Position[];

const round = (value: number): number => {
  const factor = 10 ** OUTLINE_DECIMALS;
  return Math.round(value * factor) / factor;
};

/** Twice the signed area of a ring in the plane (positive: counter-clockwise with y up). */
function signedArea(ring: Ring): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x1, y1] = ring[j] as [number, number];
    const [x2, y2] = ring[i] as [number, number];
    sum += x1 * y2 - x2 * y1;
  }
  return sum;
}

function contains(ring: Ring, [x, y]: [number, number]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as [number, number];
    const [xj, yj] = ring[j] as [number, number];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Groups the rings that the clip produced for one input polygon into GeoJSON polygons: the rings
 * wound like the largest one are outer rings, the others holes of the outer ring that contains them.
 * Outer rings are written counter-clockwise and holes clockwise (RFC 7946).
 */
function groupRings(rings: Ring[]): Position[][][] {
  if (rings.length === 0) return [];
  const areas = rings.map(signedArea);
  let largest = 0;
  areas.forEach((area, i) => {
    if (Math.abs(area) > Math.abs(areas[largest] as number)) largest = i;
  });
  const outerSign = Math.sign(areas[largest] as number);
  const polygons: Position[][][] = [];
  const holes: Ring[] = [];
  rings.forEach((ring, i) => {
    const area = areas[i] as number;
    if (Math.sign(area) === outerSign) polygons.push([area > 0 ? ring : ring.slice().reverse()]);
    else holes.push(area < 0 ? ring : ring.slice().reverse());
  });
  for (const hole of holes) {
    const owner = polygons.find((polygon) => contains(polygon[0] as Ring, hole[0] as [number, number]));
    (owner ?? polygons[0])?.push(hole);
  }
  return polygons;
}

/**
 * Cuts one geometry at the antimeridian.
 *
 * @returns its polygons, each a list of rings of `[longitude, latitude]`, closed, none crossing 180
 *   degrees; lines and points are dropped (countries are areas).
 */
export function cutAtAntimeridian(geometry: Geometry): Position[][][] {
  const projection = geoEquirectangular()
    .scale(180 / Math.PI)
    .translate([0, 0])
    .precision(0);
  const polygons: Position[][][] = [];
  let rings: Ring[] = [];
  let ring: Ring | undefined;
  let inPolygon = false;
  const sink: GeoStream = {
    point(x, y) {
      ring?.push([round(x), round(-y)]);
    },
    lineStart() {
      ring = [];
    },
    lineEnd() {
      if (ring !== undefined && inPolygon) {
        const first = ring[0];
        const last = ring[ring.length - 1];
        if (first !== undefined && last !== undefined && (first[0] !== last[0] || first[1] !== last[1]))
          ring.push([first[0] as number, first[1] as number]);
        if (ring.length >= 4 && signedArea(ring) !== 0) rings.push(ring);
      }
      ring = undefined;
    },
    polygonStart() {
      inPolygon = true;
      rings = [];
    },
    polygonEnd() {
      inPolygon = false;
      polygons.push(...groupRings(rings));
      rings = [];
    },
    sphere() {
      // Not asked for: no feature is the whole sphere.
    },
  };
  geoStream(geometry, projection.stream(sink));
  return polygons;
}

/**
 * Every country of world-atlas's `countries-110m.json`, cut at the antimeridian (about 60 ms; run at
 * build time).
 */
export async function worldCountries(): Promise<FeatureCollection<MultiPolygon, { readonly name: string }>> {
  const require = createRequire(import.meta.url);
  const file = require.resolve('world-atlas/countries-110m.json');
  const topology = JSON.parse(await readFile(file, 'utf8')) as Topology<{
    countries: GeometryCollection<{ name: string }>;
  }>;
  const features: CountryFeature[] = [];
  for (const geometry of topology.objects.countries.geometries) {
    // A country is one geometry object, so this is one Feature (never a collection).
    const feature = topojson.feature(topology, geometry) as Feature<Geometry, { name?: string } | null>;
    const polygons = cutAtAntimeridian(feature.geometry);
    if (polygons.length > 0) {
      features.push({
        type: 'Feature',
        properties: { name: String(feature.properties?.name ?? '') },
        geometry: { type: 'MultiPolygon', coordinates: polygons },
      });
    }
  }
  return { type: 'FeatureCollection', features };
}
