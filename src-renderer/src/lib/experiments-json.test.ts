import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError } from './experiments-json';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('findJsonSyntaxError', () => {
  it('points at the first offending character and says what was expected there', () => {
    expect(findJsonSyntaxError('{"a": 1,}')).toEqual({
      offset: 8,
      message: "expected a property name in double quotes, found '}'",
    });
    expect(findJsonSyntaxError('{"a" 1}')).toEqual({
      offset: 5,
      message: "expected ':' after the property name, found '1'",
    });
    expect(findJsonSyntaxError('[1 2]')).toEqual({ offset: 3, message: "expected ',' or ']', found '2'" });
    expect(findJsonSyntaxError('{"a": [1, 2}')).toEqual({ offset: 11, message: "expected ',' or ']', found '}'" });
    expect(findJsonSyntaxError('{"a": tru}')).toEqual({
      offset: 6,
      message: "expected a value (an object, array, string, number, true, false or null), found 't'",
    });
    expect(findJsonSyntaxError('{"a": 01}')).toEqual({ offset: 7, message: "expected ',' or '}', found '1'" });
    expect(findJsonSyntaxError('{"a": "x\n"}')).toEqual({
      offset: 8,
      message: 'a string is missing its closing quote',
    });
    expect(findJsonSyntaxError('{"a": "\\q"}')).toMatchObject({
      offset: 8,
      message: expect.stringMatching(/^expected an escape/),
    });
    expect(findJsonSyntaxError('{"a": 1} x')).toEqual({
      offset: 9,
      message: "expected the end of the text after the value, found 'x'",
    });
    expect(findJsonSyntaxError('{"a": 1')).toEqual({
      offset: 7,
      message: "expected ',' or '}', found the end of the text",
    });
    expect(findJsonSyntaxError('')).toEqual({
      offset: 0,
      message: 'expected a value (an object, array, string, number, true, false or null), found the end of the text',
    });
  });

  it('accepts whatever JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (v, indent) => {
        expect(findJsonSyntaxError(JSON.stringify(v, null, indent))).toBeNull();
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with JSON.parse on damaged JSON: an error exactly when JSON.parse throws', () => {
    const damaged = fc
      .tuple(
        fc.jsonValue(),
        fc.nat(),
        fc.constantFrom('', ',', ']', '}', '"', ':', '0', 'x', ' ', '\\', '-', '.', 'e'),
        fc.boolean(),
      )
      .map(([v, at, piece, cut]) => {
        const text = JSON.stringify(v, null, 1) ?? 'null';
        const k = at % (text.length + 1);
        return text.slice(0, k) + piece + text.slice(cut ? k + 1 : k);
      });
    fc.assert(
      fc.property(damaged, (text) => {
        expect(findJsonSyntaxError(text) === null).toBe(parses(text));
      }),
      { numRuns: 2000 },
    );
  });
});
