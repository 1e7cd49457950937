import { expect } from 'vitest';

/** For tests: an SVG string parsed as a document, failing the test when it is not well-formed XML. */
export function parseSvg(svg: string): Document {
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  expect(doc.getElementsByTagName('parsererror')).toHaveLength(0);
  return doc;
}
