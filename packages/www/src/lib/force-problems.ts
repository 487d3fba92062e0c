/**
 * Splits a force scheduler's refusal (`force scheduler "force" refused the request: count:
 * expected an integer, got "x"; branch: expected a string`) into problems per field, so the
 * form can show each next to its field. Problems naming no field of the form are left to
 * the message at the top.
 */
export function fieldProblems(
  message: string,
  fieldNames: readonly string[],
): Record<string, string> {
  const marker = 'refused the request: ';
  const at = message.indexOf(marker);
  const body = at >= 0 ? message.slice(at + marker.length) : message;
  const out: Record<string, string> = {};
  for (const problem of body.split('; ')) {
    const match = /^([\w.-]+): (.+)$/s.exec(problem.trim());
    const name = match?.[1];
    const text = match?.[2];
    if (name !== undefined && text !== undefined && fieldNames.includes(name)) out[name] = text;
  }
  return out;
}
