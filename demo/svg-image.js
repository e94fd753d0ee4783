// The QR code Tessera draws, turned into the page's own nodes: parsed as SVG, never as HTML, and
// rebuilt from the few shapes and attributes a QR code needs, so that not even a tampered answer
// could bring a script, a link or an outside resource into the page.

const SVG = 'http://www.w3.org/2000/svg';

/** Element -> the attributes it keeps. Anything else (script, foreignObject, on*, href) is dropped. */
const KEPT = {
  svg: ['viewBox', 'width', 'height', 'shape-rendering'],
  g: ['fill', 'stroke'],
  path: ['d', 'fill', 'stroke', 'stroke-width', 'fill-rule'],
  rect: ['x', 'y', 'width', 'height', 'fill'],
};

// A colour or a number: never url(...), which could name a resource.
const PAINT = /^(#[0-9a-f]{3,8}|none|black|white)$/i;
const PAINTED = new Set(['fill', 'stroke']);

/** The SVG in `text` as a detached <svg> element; throws when it is not one. */
export function svgFromText(text) {
  const parsed = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = parsed.documentElement;
  const wellFormed = parsed.getElementsByTagName('parsererror').length === 0;
  const svg = wellFormed && root.namespaceURI === SVG && root.localName === 'svg' ? rebuild(root) : null;
  if (!svg) throw new Error('the QR code is not an SVG image');
  svg.setAttribute('role', 'img');
  return svg;
}

function rebuild(source) {
  const kept = source.namespaceURI === SVG ? KEPT[source.localName] : undefined;
  if (!kept) return null;
  const node = document.createElementNS(SVG, source.localName);
  for (const name of kept) {
    const value = source.getAttribute(name);
    if (value !== null && (!PAINTED.has(name) || PAINT.test(value))) node.setAttribute(name, value);
  }
  for (const child of source.children) {
    const copy = rebuild(child);
    if (copy) node.append(copy);
  }
  return node;
}
