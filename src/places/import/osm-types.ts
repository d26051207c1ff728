/**
 * Google place types (legacy Nearby Search `types`) for the OpenStreetMap tags that osmium export
 * and ogr2ogr copy into GeoJSON properties (wiki.openstreetmap.org/wiki/Map_features): the default
 * `types` of a GeoJSON feature without `properties.types`. docs/places.md, "Types"; change both
 * together.
 */
import { ESTABLISHMENT } from './geonames-types.js';

/** `key=value` tag -> Google type; `key=*` matches any value of the key. First match wins. */
export const OSM_TAG_TYPES: readonly (readonly [tag: string, type: string])[] = [
  ['amenity=cafe', 'cafe'],
  ['amenity=restaurant', 'restaurant'],
  ['amenity=fast_food', 'restaurant'],
  ['amenity=bar', 'bar'],
  ['amenity=pub', 'bar'],
  ['amenity=school', 'school'],
  ['amenity=university', 'university'],
  ['amenity=college', 'university'],
  ['amenity=library', 'library'],
  ['amenity=hospital', 'hospital'],
  ['amenity=clinic', 'doctor'],
  ['amenity=doctors', 'doctor'],
  ['amenity=dentist', 'dentist'],
  ['amenity=pharmacy', 'pharmacy'],
  ['amenity=bank', 'bank'],
  ['amenity=atm', 'atm'],
  ['amenity=post_office', 'post_office'],
  ['amenity=police', 'police'],
  ['amenity=fire_station', 'fire_station'],
  ['amenity=fuel', 'gas_station'],
  ['amenity=parking', 'parking'],
  ['amenity=cinema', 'movie_theater'],
  ['amenity=place_of_worship', 'place_of_worship'],
  ['amenity=bus_station', 'bus_station'],
  ['tourism=hotel', 'lodging'],
  ['tourism=motel', 'lodging'],
  ['tourism=hostel', 'lodging'],
  ['tourism=guest_house', 'lodging'],
  ['tourism=museum', 'museum'],
  ['tourism=zoo', 'zoo'],
  ['tourism=theme_park', 'amusement_park'],
  ['tourism=attraction', 'tourist_attraction'],
  ['leisure=park', 'park'],
  ['leisure=stadium', 'stadium'],
  ['railway=station', 'train_station'],
  ['railway=subway_entrance', 'subway_station'],
  ['aeroway=aerodrome', 'airport'],
  ['highway=bus_stop', 'bus_station'],
  ['shop=supermarket', 'supermarket'],
  ['shop=mall', 'shopping_mall'],
  ['shop=bakery', 'bakery'],
  ['shop=*', 'store'],
];

/** {@link OSM_TAG_TYPES} split once into key and value. */
const TAG_RULES = OSM_TAG_TYPES.map(([tag, type]) => {
  const [key, value] = tag.split('=') as [string, string];
  return { key, value, type };
});

/**
 * The Google types of a GeoJSON feature from its OpenStreetMap tags: the first {@link OSM_TAG_TYPES}
 * match, then `point_of_interest, establishment`; `undefined` when no tag matches.
 */
export function typesFromOsmTags(properties: Readonly<Record<string, unknown>>): string[] | undefined {
  for (const { key, value, type } of TAG_RULES) {
    const given = properties[key];
    if (typeof given === 'string' && (value === '*' || given === value)) return [type, ...ESTABLISHMENT];
  }
  return undefined;
}
