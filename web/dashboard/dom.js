// DOM helpers of the dashboard. Every piece of text from the server (client ids above all, which
// are arbitrary bytes from the network) goes into the page as a text node or an attribute value
// set with setAttribute, never as HTML: nothing here parses markup.

// The server generates earth.js from the radius its offline places search uses (src/dashboard/http.ts).
import { EARTH_RADIUS_KM } from './earth.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an element. `props`: `text` (textContent), `class`, `hidden`, and any other key is set
 * with setAttribute. Children are nodes or strings (as text).
 */
export function el(tag, props = {}, ...children) {
  return build(document.createElement(tag), props, children);
}

/** {@link el} for SVG elements. */
export function svg(tag, props = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children);
}

function build(node, props, children) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') node.textContent = String(value);
    else if (key === 'class') node.setAttribute('class', String(value));
    else if (key === 'hidden') node.hidden = true;
    else if (key.startsWith('on')) throw new Error(`el(): no event handler attributes (${key})`);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** A link only to an http(s) URL (a dashboard of the herd); anything else is plain text. */
export function safeLink(url, text) {
  if (typeof url === 'string' && /^https?:\/\//.test(url)) return el('a', { href: url, text });
  return document.createTextNode(text);
}

/** A rate for a table: 1 decimal under 10, else whole; '–' when unknown. */
export function formatRate(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  return value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US');
}

/** A count with thousands separators, '–' when unknown. */
export function formatCount(value) {
  return typeof value === 'number' ? value.toLocaleString('en-US') : '–';
}

/** Great-circle distance in km, on the server's spherical Earth. */
export function distanceKm(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}
