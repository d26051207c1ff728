// The client view: one client's AT line and the places a WHATSAT with the chosen radius would
// answer, from the server's own places source (GET client?id=...; it counts as a look-up).
import { authFetch } from './admin-token.js';
import { distanceKm, el } from './dom.js';

export class ClientView {
  constructor(herdMap) {
    this.herdMap = herdMap;
    this.id = undefined;
    this.sequence = 0;
    this.panel = document.getElementById('client-panel');
    this.radius = document.getElementById('radius');
    this.radiusValue = document.getElementById('radius-value');
    this.radius.addEventListener('input', () => {
      this.radiusValue.textContent = `${this.radius.value} km`;
    });
    this.radius.addEventListener('change', () => {
      if (this.id !== undefined) void this.select(this.id);
    });
  }

  /** Takes WHATSAT's bounds from the server's `/herd` (`limits.maxRadiusKm`, `limits.maxPlaces`). */
  setLimits(limits) {
    this.radius.max = String(limits.maxRadiusKm);
    this.maxPlaces = limits.maxPlaces;
  }

  /** Shows client `id`: asks the server, then draws the radius and the places. */
  async select(id) {
    this.id = id;
    const sequence = ++this.sequence;
    const radiusKm = Number(this.radius.value);
    this.panel.dataset.state = 'loading';
    document.getElementById('client-hint').hidden = true;
    document.getElementById('client-body').hidden = false;
    document.getElementById('client-id').textContent = id;
    document.getElementById('client-at').textContent = '…';
    document.getElementById('client-status').textContent = `looking up places within ${radiusKm} km…`;
    document.getElementById('places').replaceChildren();
    document.getElementById('attribution').textContent = '';
    let answer;
    try {
      // Without a limit (before /herd is read) the server answers up to WHATSAT's largest bound.
      const query = new URLSearchParams({ id, radius: String(radiusKm) });
      if (this.maxPlaces !== undefined) query.set('limit', String(this.maxPlaces));
      const response = await authFetch(`client?${query}`);
      answer = await response.json();
      if (!response.ok) throw new Error(answer.error ?? `answered ${response.status}`);
    } catch (error) {
      if (sequence !== this.sequence) return;
      this.panel.dataset.state = 'error';
      document.getElementById('client-status').textContent = `no answer: ${error.message}`;
      return;
    }
    if (sequence !== this.sequence) return;
    const results = answer.places.results ?? [];
    document.getElementById('client-at').textContent = answer.atLine;
    document.getElementById('client-status').textContent =
      `${answer.places.status}: ${results.length} place${results.length === 1 ? '' : 's'} within ${answer.radiusKm} km ` +
      `(as WHATSAT … ${answer.radiusKm} ${answer.limit} would answer; places source of this server)`;
    document.getElementById('places').replaceChildren(
      ...results.map((place) => {
        const location = place.geometry?.location;
        const km = location === undefined ? undefined : distanceKm(answer, location);
        return el(
          'li',
          { 'data-place': place.place_id ?? '' },
          el('span', { class: 'place-name', text: place.name ?? '(no name)' }),
          el('span', {
            class: 'where',
            text: [place.vicinity, km === undefined ? undefined : `${km.toFixed(1)} km`].filter(Boolean).join(' · '),
          }),
        );
      }),
    );
    // Attributions are HTML from the places source: shown as text only, parsed in an inert document.
    const attributions = (answer.places.html_attributions ?? []).map(
      (html) => new DOMParser().parseFromString(String(html), 'text/html').body.textContent ?? '',
    );
    document.getElementById('attribution').textContent = attributions.join(' · ');
    this.herdMap.showClientView(answer, results, answer.radiusKm);
    this.panel.dataset.state = 'ready';
    this.panel.dataset.client = id;
  }
}
