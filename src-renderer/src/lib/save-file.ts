/**
 * Saves bytes the page made (a chart as PNG, SVG or CSV, a network spec) as a file: a Blob
 * download. The browser host downloads it; in Electron a download opens the native save
 * dialog. (The protocol's exports write files the services made; these never leave the page.)
 */
export function saveBlob(name: string, blob: Blob): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function saveText(name: string, text: string, type: string): void {
  saveBlob(name, new Blob([text], { type }));
}

/** A file-name stem from a title: letters, digits, '-' and '_' only. */
export function fileStem(title: string): string {
  return (
    title
      .trim()
      .replace(/[^\w-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .toLowerCase() || 'chart'
  );
}
