/** For the report tests (not used by the app). */

/** Checks that every tag is closed in order (well-formed XML, as far as tags go) and returns the tag names. */
export function wellFormedTags(xml: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      names.push(name);
      if (!selfClose) stack.push(name);
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}
