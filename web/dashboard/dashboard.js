// The herd dashboard (issue 10; docs/observability.md "Dashboard"). A plain ES module, served with
// a strict Content-Security-Policy: no inline script, no inline style, nothing from elsewhere.
//
// First paint: GET herd (members, links, status rows) and dashboard/countries.json; then, unless
// ?live=0, the server-sent events of GET events (buffered until the paint is done); then clients (a
// snapshot: points, or a density grid past the server's point limit). Every request carries the
// admin token if the admin port asks for one (admin-token.js). When the page is painted it sets
// data-ready="true" on <html> and window.herdDashboardReady (what tests and the bench wait on).
import { authFetch, withToken } from './admin-token.js';
import { openEventStream } from './event-stream.js';
import { HerdMap } from './map.js';
import { renderTopology } from './topology.js';
import { ClientView } from './client-view.js';
import { el, formatCount } from './dom.js';

const params = new URLSearchParams(window.location.search);
const live = params.get('live') !== '0';
/** Most entries of the recent check-ins list. */
const MAX_RECENT = 30;
/** Least time between two snapshot reloads caused by the stream, ms. */
const RELOAD_EVERY_MS = 5000;

const state = {
  herd: undefined,
  rows: new Map(),
  snapshot: undefined,
  painted: false,
  early: [],
  reloadTimer: undefined,
  lastReload: 0,
  checkins: 0,
};

async function getJson(url) {
  const response = await authFetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

function setMode(mode, text) {
  const badge = document.getElementById('mode');
  badge.dataset.mode = mode;
  badge.textContent = text;
}

function summary() {
  const herd = state.herd;
  const self = state.rows.get(herd.self);
  const up = [...state.rows.values()].filter((row) => row.state === 'up').length;
  const snapshot = state.snapshot;
  const parts = [
    `${formatCount(self?.status?.clients ?? snapshot?.clients)} clients held`,
    `${up} of ${herd.servers.length} servers up`,
    `places: ${herd.placesSource}`,
  ];
  document.getElementById('summary').textContent = parts.join(' · ');
  const note =
    snapshot === undefined
      ? ''
      : snapshot.grid
        ? `${formatCount(snapshot.total)} clients in view: density (more than ${formatCount(herd.limits.maxSnapshotPoints)}); zoom in for points`
        : `${formatCount(herd.map.markers.size)} clients on the map`;
  document.getElementById('map-note').textContent = note;
}

function render() {
  renderTopology(state.herd, state.rows);
  const states = new Map([...state.rows].map(([name, row]) => [name, row.state]));
  state.herd.map.setServers(state.herd.servers, states);
  summary();
}

function snapshotUrl(box) {
  const herdMap = state.herd.map;
  const { cols, rows } = herdMap.gridSize(state.herd.limits.maxSnapshotCells);
  const bbox = [box.west, box.south, box.east, box.north].map((n) => n.toFixed(5)).join(',');
  return `clients?${new URLSearchParams({ bbox, limit: String(state.herd.limits.maxSnapshotPoints), cols: String(cols), rows: String(rows) })}`;
}

async function reloadSnapshot() {
  state.lastReload = performance.now();
  const snapshot = await getJson(snapshotUrl(state.herd.map.viewBox()));
  state.snapshot = snapshot;
  state.herd.map.setSnapshot(snapshot);
  summary();
}

/** Reloads the snapshot soon, at most every RELOAD_EVERY_MS. */
function scheduleReload() {
  if (state.reloadTimer !== undefined) return;
  const wait = Math.max(250, RELOAD_EVERY_MS - (performance.now() - state.lastReload));
  state.reloadTimer = setTimeout(() => {
    state.reloadTimer = undefined;
    reloadSnapshot().catch((error) => console.warn('snapshot reload failed', error));
  }, wait);
}

function addRecent(checkin) {
  const list = document.getElementById('recent');
  const item = el(
    'li',
    { 'data-client': checkin.id },
    el('button', { type: 'button', text: checkin.id }),
    el('span', { class: 'when', text: `via ${checkin.server}, client time ${checkin.time}` }),
  );
  item.querySelector('button').addEventListener('click', () => state.clientView.select(checkin.id));
  for (const old of list.querySelectorAll('li')) if (old.dataset.client === checkin.id) old.remove();
  list.prepend(item);
  while (list.children.length > MAX_RECENT) list.lastElementChild.remove();
}

function onCheckin(data) {
  const herdMap = state.herd.map;
  const limit = state.herd.limits.maxSnapshotPoints;
  for (const checkin of data.checkins) {
    state.checkins++;
    if (herdMap.mode === 'density' || herdMap.markers.size < limit || herdMap.markers.has(checkin.id))
      herdMap.upsert(checkin, true);
    else scheduleReload();
  }
  for (const checkin of data.checkins.slice(0, MAX_RECENT).reverse()) addRecent(checkin);
  if (data.more > 0 || (herdMap.mode === 'points' && herdMap.markers.size >= limit)) scheduleReload();
  summary();
}

function onLink(data) {
  const row = state.rows.get(data.server);
  if (row?.status === undefined) return;
  const links = row.status.links.map((link) => {
    const change = data.links.find((each) => each.peer === link.peer);
    return change === undefined ? link : { ...link, ...change };
  });
  state.rows.set(data.server, { ...row, status: { ...row.status, links } });
  render();
}

function onServer(data) {
  for (const row of data.rows) state.rows.set(row.name, row);
  render();
}

function handle(type, data) {
  if (!state.painted) {
    state.early.push([type, data]);
    return;
  }
  if (type === 'checkin') onCheckin(data);
  else if (type === 'link') onLink(data);
  else if (type === 'server') onServer(data);
}

function openStream() {
  let opened = false;
  openEventStream({
    onOpen: () => {
      setMode('live', 'live');
      // After a drop, what was missed is in a fresh snapshot.
      if (opened && state.painted) scheduleReload();
      opened = true;
    },
    onEvent: handle,
    onDrop: () => setMode('reconnecting', 'reconnecting…'),
  });
}

async function main() {
  const herdMap = new HerdMap(document.getElementById('map'), {
    onClientClick: (id) => state.clientView.select(id),
  });
  state.clientView = new ClientView(herdMap);
  const [herd, countries] = await withToken(() => Promise.all([getJson('herd'), getJson('dashboard/countries.json')]));
  if (live) openStream();
  else setMode('static', 'static');
  state.herd = { ...herd, map: herdMap };
  state.clientView.setLimits(herd.limits);
  for (const row of herd.rows) state.rows.set(row.name, row);
  document.getElementById('self').textContent = herd.self;
  document.title = `herd · ${herd.self}`;
  herdMap.setCountries(countries);
  render();
  const world = { west: -180, south: -90, east: 180, north: 90 };
  const snapshot = await withToken(() => getJson(snapshotUrl(world)));
  state.snapshot = snapshot;
  state.lastReload = performance.now();
  herdMap.fitTo(snapshot.extent);
  herdMap.setSnapshot(snapshot);
  // A grid for the world is too coarse for a view fitted to a small part of it: ask for the view.
  const view = herdMap.viewBox();
  const share = ((view.east - view.west) * (view.north - view.south)) / (360 * 180);
  if (snapshot.grid && share < 0.5) await reloadSnapshot();
  summary();
  if (!live) setMode('static', `static · ${new Date().toLocaleString()}`);
  state.painted = true;
  for (const [type, data] of state.early.splice(0)) handle(type, data);
  herdMap.map.on('moveend', () => {
    const last = state.snapshot;
    const complete = last !== undefined && !last.grid && last.bbox.west === -180 && last.bbox.east === 180;
    if (!complete) {
      clearTimeout(state.moveTimer);
      state.moveTimer = setTimeout(() => reloadSnapshot().catch((error) => console.warn(error)), 250);
    }
  });
  window.herdDashboard = {
    map: herdMap.map,
    pagePointOf: (id) => herdMap.pagePointOf(id),
    get mode() {
      return herdMap.mode;
    },
    get points() {
      return herdMap.markers.size;
    },
    get checkins() {
      return state.checkins;
    },
  };
  window.herdDashboardReadyMs = performance.now();
  window.herdDashboardReady = true;
  document.documentElement.dataset.ready = 'true';
}

main().catch((error) => {
  setMode('error', 'error');
  document.getElementById('summary').textContent = `the dashboard failed to load: ${error.message}`;
  document.documentElement.dataset.ready = 'error';
  console.error(error);
});
