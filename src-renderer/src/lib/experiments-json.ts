/**
 * Where a JSON text first breaks, and why, in the same words whichever browser runs it
 * (JSON.parse's messages differ between engines and often give no position at all). Only used
 * after JSON.parse has failed: a plain recursive-descent scan of RFC 8259 JSON.
 */
export interface JsonSyntaxError {
  offset: number;
  message: string;
}

class Fail {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const describe = (ch: string | undefined): string =>
  ch === undefined ? 'the end of the text' : ch === '\n' ? 'the end of the line' : `'${ch}'`;

export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  let i = 0;
  const fail = (message: string): never => {
    throw new Fail(i, message);
  };
  const expected = (what: string): never => fail(`expected ${what}, found ${describe(text[i])}`);
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = (): void => {
    i++; // the opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined || c === '\n') fail('a string is missing its closing quote');
      if (c === '"') break;
      if (c < ' ') fail('a control character inside a string (write it as an escape such as \\t)');
      if (c === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) expected('four hex digits after \\u');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x'))
          expected('an escape: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX');
      }
      i++;
    }
    i++;
  };
  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) expected('a number');
    i += m![0].length;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    expected('a value (an object, array, string, number, true, false or null)');
  };
  const object = (): void => {
    i++;
    space();
    if (text[i] === '}') return void i++;
    for (;;) {
      space();
      if (text[i] !== '"') expected('a property name in double quotes');
      string();
      space();
      if (text[i] !== ':') expected("':' after the property name");
      i++;
      value();
      space();
      if (text[i] === '}') return void i++;
      if (text[i] !== ',') expected("',' or '}'");
      i++;
    }
  };
  const array = (): void => {
    i++;
    space();
    if (text[i] === ']') return void i++;
    for (;;) {
      value();
      space();
      if (text[i] === ']') return void i++;
      if (text[i] !== ',') expected("',' or ']'");
      i++;
    }
  };
  try {
    value();
    space();
    if (i < text.length) expected('the end of the text after the value');
    return null;
  } catch (e) {
    if (e instanceof Fail) return { offset: e.offset, message: e.message };
    throw e;
  }
}
