// The topology panel: the herd's servers and links as a graph (SVG), and two tables with the same
// figures. Each link is drawn as two halves: the half at a server is the state of that server's
// outgoing link to the other (a link is two TCP connections, one per flooding direction).
import { el, formatCount, formatRate, safeLink, svg } from './dom.js';

const WIDTH = 360;
const HEIGHT = 250;

/** Where each server goes: around an ellipse, the first at the top. */
function layout(names) {
  const positions = new Map();
  const n = names.length;
  names.forEach((name, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, n);
    const x = n === 1 ? WIDTH / 2 : WIDTH / 2 + Math.cos(angle) * (WIDTH / 2 - 70);
    const y = n === 1 ? HEIGHT / 2 : HEIGHT / 2 + Math.sin(angle) * (HEIGHT / 2 - 42);
    positions.set(name, { x, y, angle });
  });
  return positions;
}

/** The state of `from`'s outgoing link to `to`, as far as this dashboard knows. */
export function linkState(rows, from, to) {
  const row = rows.get(from);
  if (row === undefined || row.state === 'unknown') return { status: 'unknown' };
  if (row.state === 'down') return { status: 'down' };
  const link = row.status?.links.find((each) => each.peer === to);
  return link === undefined ? { status: 'unknown' } : link;
}

/**
 * The servers in the order a walk along the links meets them (depth first, from the first server),
 * so that a ring of links is drawn as a ring; servers no walk reaches come last.
 */
function walkOrder(herd) {
  const names = herd.servers.map((server) => server.name);
  const seen = new Set();
  const order = [];
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    order.push(name);
    for (const [a, b] of herd.links) {
      if (a === name) visit(b);
      else if (b === name) visit(a);
    }
  };
  for (const name of names) visit(name);
  return order;
}

/** Renders the graph and the tables for `herd` (from /herd) and `rows` (name -> server row). */
export function renderTopology(herd, rows) {
  const graph = document.getElementById('topology');
  const names = walkOrder(herd);
  const positions = layout(names);
  const edges = svg('g', { class: 'edges' });
  const labels = svg('g', { class: 'labels' });
  for (const [a, b] of herd.links) {
    const pa = positions.get(a);
    const pb = positions.get(b);
    if (pa === undefined || pb === undefined) continue;
    const mid = { x: (pa.x + pb.x) / 2, y: (pa.y + pb.y) / 2 };
    for (const [from, to, p] of [
      [a, b, pa],
      [b, a, pb],
    ]) {
      const state = linkState(rows, from, to);
      edges.append(
        svg(
          'line',
          {
            class: 'edge',
            x1: p.x.toFixed(1),
            y1: p.y.toFixed(1),
            x2: mid.x.toFixed(1),
            y2: mid.y.toFixed(1),
            'data-link': `${from}->${to}`,
            'data-state': state.status,
          },
          svg('title', { text: `${from} → ${to}: ${state.status}` }),
        ),
      );
      const reconnects = Math.max(0, (state.connects ?? 0) - 1);
      const queued = state.queued ?? 0;
      if (queued > 0 || reconnects > 0) {
        const x = p.x + (mid.x - p.x) * 0.55;
        const y = p.y + (mid.y - p.y) * 0.55 - 4;
        const parts = [];
        if (queued > 0) parts.push(`q ${formatCount(queued)}`);
        if (reconnects > 0) parts.push(`↻ ${reconnects}`);
        labels.append(
          svg('text', {
            class: 'edge-label',
            x: x.toFixed(1),
            y: y.toFixed(1),
            'text-anchor': 'middle',
            text: parts.join(' '),
          }),
        );
      }
    }
  }
  const nodes = svg('g', { class: 'nodes' });
  for (const name of names) {
    const p = positions.get(name);
    const row = rows.get(name);
    const state = row?.state ?? 'unknown';
    const below = Math.sin(p.angle) > 0.2;
    const dy = below ? 20 : -30;
    const figures = row?.status
      ? [
          `${formatCount(row.status.clients)} clients`,
          `${formatRate(row.iamatPerSecond)} IAMAT/s · ${formatRate(row.floodsPerSecond)} floods/s`,
        ]
      : [state === 'down' ? 'down' : 'no answer', ''];
    nodes.append(
      svg(
        'g',
        {
          class: 'node',
          'data-server': name,
          'data-state': state,
          transform: `translate(${p.x.toFixed(1)} ${p.y.toFixed(1)})`,
        },
        svg('circle', { r: name === herd.self ? 10 : 8 }),
        svg('text', {
          class: 'name',
          y: dy,
          'text-anchor': 'middle',
          text: name === herd.self ? `${name} (this)` : name,
        }),
        svg('text', { class: 'figures', y: dy + 11, 'text-anchor': 'middle', text: figures[0] }),
        svg('text', { class: 'figures', y: dy + 21, 'text-anchor': 'middle', text: figures[1] }),
        svg('title', { text: `${name}: ${state}${row?.error ? ` (${row.error})` : ''}` }),
      ),
    );
  }
  graph.replaceChildren(edges, labels, nodes);

  const serverRows = herd.servers.map((server) => {
    const row = rows.get(server.name);
    const state = row?.state ?? 'unknown';
    return el(
      'tr',
      { 'data-server': server.name, 'data-state': state },
      el('td', {}, safeLink(server.dashboardUrl, server.name), server.name === herd.self ? ' (this)' : ''),
      el('td', { class: 'state', 'data-state': state, text: state, title: row?.error ?? undefined }),
      el('td', { class: 'num', text: formatCount(row?.status?.clients) }),
      el('td', { class: 'num', text: formatRate(row?.iamatPerSecond) }),
      el('td', { class: 'num', text: formatRate(row?.floodsPerSecond) }),
    );
  });
  document.querySelector('#servers tbody').replaceChildren(...serverRows);

  const linkRows = [];
  for (const [a, b] of herd.links) {
    for (const [from, to] of [
      [a, b],
      [b, a],
    ]) {
      const state = linkState(rows, from, to);
      linkRows.push(
        el(
          'tr',
          { 'data-link': `${from}->${to}`, 'data-state': state.status },
          el('td', { text: `${from} → ${to}` }),
          el('td', { class: 'state', 'data-state': state.status, text: state.status }),
          el('td', { class: 'num', text: state.queued === undefined ? '–' : formatCount(state.queued) }),
          el('td', {
            class: 'num',
            text: state.connects === undefined ? '–' : String(Math.max(0, state.connects - 1)),
          }),
        ),
      );
    }
  }
  document.querySelector('#links tbody').replaceChildren(...linkRows);
}
