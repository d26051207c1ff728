// The world map: Leaflet with no tile layer, drawn on canvas (preferCanvas). Country outlines come
// from the server (world-atlas, cut at the antimeridian there), clients are points or, when a view
// holds more than the server's point limit, a density grid; servers are drawn where the config
// places them; the client view draws the WHATSAT radius and its places.
import * as L from './vendor/leaflet/leaflet.js';
import { el } from './dom.js';

/** Most live points drawn on top of a density grid (the newest; older ones fall off). */
const MAX_LIVE_POINTS = 500;
/** Servers closer than this on screen share one label, px. */
const LABEL_MERGE_PX = 30;
const COLORS = {
  land: '#f4f1ea',
  border: '#a9b4c0',
  client: '#2b6cb0',
  clientLive: '#e0582b',
  place: '#9f3ab8',
  selected: '#111827',
  up: '#1f9d55',
  down: '#d64545',
  unknown: '#8a96a3',
};
const MAX_LATITUDE = 85.0511287798;

function mercatorY(lat) {
  const clamped = Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, lat));
  return Math.log(Math.tan(Math.PI / 4 + (clamped * Math.PI) / 360));
}

function inverseMercatorY(y) {
  return (Math.atan(Math.sinh(y)) * 180) / Math.PI;
}

/** Light to dark blue by t in [0, 1]. */
function densityColor(t) {
  const from = [198, 219, 239];
  const to = [8, 48, 107];
  const c = from.map((f, i) => Math.round(f + (to[i] - f) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

export class HerdMap {
  constructor(container, { onClientClick }) {
    this.onClientClick = onClientClick;
    this.map = L.map(container, {
      preferCanvas: true,
      attributionControl: false,
      worldCopyJump: false,
      minZoom: 1,
      maxZoom: 17,
      zoomSnap: 0.25,
      maxBounds: [
        [-89, -200],
        [89, 200],
      ],
      maxBoundsViscosity: 0.8,
    });
    this.map.setView([20, 0], 1.5);
    // Two canvases: outlines and other shapes nobody clicks, and above them one for everything that
    // can be clicked or hovered (a canvas on top takes every mouse event, so there is only one).
    this.map.createPane('clients').style.zIndex = '420';
    this.baseRenderer = L.canvas({ padding: 0.3 });
    this.clientRenderer = L.canvas({ pane: 'clients', padding: 0.3, tolerance: 4 });
    this.serverRenderer = this.clientRenderer;
    this.countries = L.layerGroup().addTo(this.map);
    this.density = L.layerGroup().addTo(this.map);
    this.view = L.layerGroup().addTo(this.map);
    this.points = L.layerGroup().addTo(this.map);
    this.serverLayer = L.layerGroup().addTo(this.map);
    this.labels = L.layerGroup().addTo(this.map);
    this.hoverTip = L.tooltip({ direction: 'top', offset: [0, -6], className: 'client-label' });
    /** id -> circle marker of every client drawn as a point. */
    this.markers = new Map();
    this.live = [];
    this.mode = 'points';
    this.servers = [];
    this.map.on('zoomend', () => this.placeServerLabels());
  }

  setCountries(geojson) {
    L.geoJSON(geojson, {
      renderer: this.baseRenderer,
      interactive: false,
      style: () => ({ color: COLORS.border, weight: 0.7, fillColor: COLORS.land, fillOpacity: 1 }),
    }).addTo(this.countries);
  }

  /** `servers`: [{ name, location: {lat, lng} | null }]; `states`: name -> up/down/unknown. */
  setServers(servers, states) {
    this.servers = servers.filter((server) => server.location !== null);
    this.serverLayer.clearLayers();
    for (const server of this.servers) {
      const state = states.get(server.name) ?? 'unknown';
      const marker = L.circleMarker([server.location.lat, server.location.lng], {
        renderer: this.serverRenderer,
        radius: 6,
        color: '#ffffff',
        weight: 2,
        fillColor: COLORS[state] ?? COLORS.unknown,
        fillOpacity: 1,
      });
      marker.on('mouseover', (event) => this.showTip(event.latlng, `${server.name} (${state})`));
      marker.on('mouseout', () => this.map.closeTooltip(this.hoverTip));
      marker.addTo(this.serverLayer);
    }
    this.placeServerLabels();
  }

  /** One label per group of servers that overlap on screen. */
  placeServerLabels() {
    this.labels.clearLayers();
    const groups = [];
    for (const server of this.servers) {
      const point = this.map.latLngToContainerPoint([server.location.lat, server.location.lng]);
      const group = groups.find((g) => g.point.distanceTo(point) < LABEL_MERGE_PX);
      if (group === undefined) groups.push({ point, servers: [server] });
      else group.servers.push(server);
    }
    for (const group of groups) {
      const first = group.servers[0];
      L.tooltip({ permanent: true, direction: 'right', offset: [8, 0], className: 'server-label', interactive: false })
        .setLatLng([first.location.lat, first.location.lng])
        .setContent(el('span', { text: group.servers.map((server) => server.name).join(', ') }))
        .addTo(this.labels);
    }
  }

  showTip(latlng, text) {
    this.hoverTip.setLatLng(latlng).setContent(el('span', { text }));
    this.map.openTooltip(this.hoverTip);
  }

  /** The bounding box the snapshot should cover: the view, clamped to the world. */
  viewBox() {
    const bounds = this.map.getBounds();
    const west = Math.max(-180, bounds.getWest());
    const east = Math.min(180, bounds.getEast());
    const south = Math.max(-90, bounds.getSouth());
    const north = Math.min(90, bounds.getNorth());
    return { west, south, east, north };
  }

  /** Grid columns and rows for a density answer: cells of about 20 px (a few thousand shapes to draw). */
  gridSize(maxCells) {
    const size = this.map.getSize();
    let cols = Math.max(4, Math.round(size.x / 20));
    let rows = Math.max(4, Math.round(size.y / 20));
    while (cols * rows > maxCells) {
      cols = Math.max(1, Math.floor(cols / 1.2));
      rows = Math.max(1, Math.floor(rows / 1.2));
    }
    return { cols, rows };
  }

  /** Draws a `/clients` answer: its points, or its density grid. */
  setSnapshot(snapshot) {
    this.points.clearLayers();
    this.density.clearLayers();
    this.markers.clear();
    this.live = [];
    if (snapshot.grid === undefined || snapshot.grid === null) {
      this.mode = 'points';
      for (const point of snapshot.points) this.upsert(point);
      return;
    }
    this.mode = 'density';
    const { cols, rows, cells } = snapshot.grid;
    const { west, east, south, north } = snapshot.bbox;
    const width = west > east ? east + 360 - west : east - west;
    const yTop = mercatorY(north);
    const yHeight = yTop - mercatorY(south);
    let max = 1;
    for (let i = 1; i < cells.length; i += 2) max = Math.max(max, cells[i]);
    for (let i = 0; i < cells.length; i += 2) {
      const index = cells[i];
      const count = cells[i + 1];
      const col = index % cols;
      const row = Math.floor(index / cols);
      const w = west + (col / cols) * width;
      const e = west + ((col + 1) / cols) * width;
      const n = inverseMercatorY(yTop - (row / rows) * yHeight);
      const s = inverseMercatorY(yTop - ((row + 1) / rows) * yHeight);
      const t = Math.log1p(count) / Math.log1p(max);
      const rect = L.rectangle(
        [
          [s, w],
          [n, e],
        ],
        {
          renderer: this.clientRenderer,
          weight: 0,
          fillColor: densityColor(t),
          fillOpacity: 0.45 + 0.45 * t,
        },
      );
      rect.on('mouseover', (event) => this.showTip(event.latlng, `${count.toLocaleString('en-US')} clients`));
      rect.on('mouseout', () => this.map.closeTooltip(this.hoverTip));
      rect.on('click', () => this.map.fitBounds(rect.getBounds(), { maxZoom: this.map.getZoom() + 3 }));
      rect.addTo(this.density);
    }
  }

  /** Draws or moves one client's point. */
  upsert(client, live = false) {
    const existing = this.markers.get(client.id);
    if (existing !== undefined) {
      existing.setLatLng([client.lat, client.lng]);
      if (live) existing.setStyle({ fillColor: COLORS.clientLive });
      return;
    }
    const marker = L.circleMarker([client.lat, client.lng], {
      renderer: this.clientRenderer,
      radius: 4,
      color: '#ffffff',
      weight: 1,
      fillColor: live ? COLORS.clientLive : COLORS.client,
      fillOpacity: 0.95,
    });
    const id = client.id;
    marker.on('click', () => this.onClientClick(id));
    marker.on('mouseover', (event) => this.showTip(event.latlng, id));
    marker.on('mouseout', () => this.map.closeTooltip(this.hoverTip));
    marker.addTo(this.points);
    this.markers.set(id, marker);
    if (this.mode === 'density') {
      this.live.push(id);
      if (this.live.length > MAX_LIVE_POINTS) this.remove(this.live.shift());
    }
  }

  remove(id) {
    const marker = this.markers.get(id);
    if (marker === undefined) return;
    this.points.removeLayer(marker);
    this.markers.delete(id);
  }

  /** Page coordinates of a client's point (for tests and the ready check), or null. */
  pagePointOf(id) {
    const marker = this.markers.get(id);
    if (marker === undefined) return null;
    const point = this.map.latLngToContainerPoint(marker.getLatLng());
    const box = this.map.getContainer().getBoundingClientRect();
    return { x: box.left + point.x, y: box.top + point.y };
  }

  /** Fits the view to the clients' extent and the servers. */
  fitTo(extent) {
    const bounds = L.latLngBounds([]);
    if (extent) bounds.extend(L.latLngBounds([extent[0], extent[1]], [extent[2], extent[3]]));
    for (const server of this.servers) bounds.extend([server.location.lat, server.location.lng]);
    if (!bounds.isValid()) return;
    this.map.fitBounds(bounds.pad(0.15), { maxZoom: 12, animate: false });
  }

  /** The client view: the client, the WHATSAT radius and the places. */
  showClientView(client, places, radiusKm) {
    this.view.clearLayers();
    const circle = L.circle([client.lat, client.lng], {
      renderer: this.baseRenderer,
      radius: radiusKm * 1000,
      color: COLORS.place,
      weight: 1.5,
      fillColor: COLORS.place,
      fillOpacity: 0.07,
      interactive: false,
    }).addTo(this.view);
    for (const place of places) {
      const location = place.geometry?.location;
      if (location === undefined) continue;
      const marker = L.circleMarker([location.lat, location.lng], {
        renderer: this.serverRenderer,
        radius: 5,
        color: '#ffffff',
        weight: 1.5,
        fillColor: COLORS.place,
        fillOpacity: 1,
      });
      marker.on('mouseover', (event) => this.showTip(event.latlng, place.name ?? ''));
      marker.on('mouseout', () => this.map.closeTooltip(this.hoverTip));
      marker.addTo(this.view);
    }
    L.circleMarker([client.lat, client.lng], {
      renderer: this.serverRenderer,
      radius: 7,
      color: COLORS.selected,
      weight: 2.5,
      fill: false,
      interactive: false,
    }).addTo(this.view);
    this.map.fitBounds(circle.getBounds().pad(0.1), { maxZoom: 14, animate: false });
  }
}
