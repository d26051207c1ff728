/**
 * The attributions the data sets of the offline source require, as HTML for a Nearby Search
 * response's `html_attributions` (Google's "Nearby Search (Legacy)" documentation). docs/places.md, "Attribution".
 */

/** GeoNames' CC BY 4.0 attribution (geonames.org/about.html), for every file built from GeoNames dumps. */
export const GEONAMES_ATTRIBUTION =
  'Place data from <a href="https://www.geonames.org/">GeoNames</a>, licensed under <a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>';

/**
 * OpenStreetMap's ODbL attribution (openstreetmap.org/copyright): the default for GeoJSON inputs, as
 * docs/places.md makes GeoJSON from OpenStreetMap extracts. Other GeoJSON takes `--attribution`.
 */
export const OSM_ATTRIBUTION =
  '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a>, <a href="https://opendatacommons.org/licenses/odbl/">ODbL</a>';
