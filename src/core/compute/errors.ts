/** Error text for the compute diagnosis: the message of anything thrown, and its first non-empty line. */
export function errorText(e: unknown): string {
  if (e === undefined || e === null) return '';
  if (e instanceof Error) return e.message;
  if (typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}

export function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
}
