/**
 * Great-circle distance on a spherical Earth, as haversines: `h = sin²(θ/2)` of the central angle θ,
 * which grows with distance, so searches compare `h` and never take an arcsine. The radius and the
 * formulas are geokdbush's (github.com/mourner/geokdbush, ISC), which the offline source used before.
 */

/** Mean Earth radius, metres (geokdbush's 6371 km). */
export const EARTH_RADIUS_METERS = 6_371_000;

const RAD = Math.PI / 180;

function haverSin(theta: number): number {
  const s = Math.sin(theta / 2);
  return s * s;
}

/**
 * The haversine between two points when `cos(lat1)` is already known; equal, bit for bit, to
 * {@link haversine} with `cosLat1 = Math.cos(lat1 * π / 180)`. Degrees in, `h` in [0, 1] out.
 */
export function haversineWithCos(cosLat1: number, lat1: number, lng1: number, lat2: number, lng2: number): number {
  return cosLat1 * Math.cos(lat2 * RAD) * haverSin((lng1 - lng2) * RAD) + haverSin((lat1 - lat2) * RAD);
}

/** The haversine `h` of the great-circle distance between two points given in degrees. */
export function haversine(lat1: number, lng1: number, lat2: number, lng2: number): number {
  return haversineWithCos(Math.cos(lat1 * RAD), lat1, lng1, lat2, lng2);
}

/** The haversine of a distance in metres: a point is within `radiusMeters` when its `h` is at most this. */
export function haversineOfMeters(radiusMeters: number): number {
  return haverSin(Math.min(Math.PI, radiusMeters / EARTH_RADIUS_METERS));
}

/** Great-circle distance between two points given in degrees, metres. */
export function distanceMeters(lat1: number, lng1: number, lat2: number, lng2: number): number {
  return 2 * EARTH_RADIUS_METERS * Math.asin(Math.sqrt(Math.min(1, haversine(lat1, lng1, lat2, lng2))));
}

/** The latitude where the great circle through the point meets a meridian at the given `haverSin(Δlng)`. */
function vertexLat(lat: number, haverSinDLng: number): number {
  const cosDLng = 1 - 2 * haverSinDLng;
  if (cosDLng <= 0) return lat > 0 ? 90 : -90;
  return Math.atan(Math.tan(lat * RAD) / cosDLng) / RAD;
}

/**
 * A lower bound of the haversine from a point to any point of a longitude/latitude box (degrees),
 * geokdbush's `boxDist`. The haversine of a longitude difference is periodic in 360°, so a box on the
 * far side of the antimeridian gets its true bound; boxes that reach a pole are handled by the vertex
 * latitude. 0 when the point is inside the box.
 */
export function boxHaversineLowerBound(
  lat: number,
  lng: number,
  cosLat: number,
  minLng: number,
  minLat: number,
  maxLng: number,
  maxLat: number,
): number {
  if (lng >= minLng && lng <= maxLng) {
    if (lat < minLat) return haverSin((lat - minLat) * RAD);
    if (lat > maxLat) return haverSin((lat - maxLat) * RAD);
    return 0;
  }
  // West or east of the box: the nearest meridian of the box is one of its two edges.
  const haverSinDLng = Math.min(haverSin((lng - minLng) * RAD), haverSin((lng - maxLng) * RAD));
  const extremumLat = vertexLat(lat, haverSinDLng);
  if (extremumLat > minLat && extremumLat < maxLat)
    return cosLat * Math.cos(extremumLat * RAD) * haverSinDLng + haverSin((lat - extremumLat) * RAD);
  return Math.min(
    cosLat * Math.cos(minLat * RAD) * haverSinDLng + haverSin((lat - minLat) * RAD),
    cosLat * Math.cos(maxLat * RAD) * haverSinDLng + haverSin((lat - maxLat) * RAD),
  );
}
