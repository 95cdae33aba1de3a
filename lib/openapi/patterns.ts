/** Regular expressions (ECMA-262 and Python both read them) for the limits validation enforces. */

/** The decimal numbers 0..max (1..max with `from1`, max ≥ 1), as a pattern without anchors (leading zeros refused). */
export function upTo(max: number, from1 = false): string {
  const digits = String(max);
  // Numbers shorter than max: any digits.
  const alternatives = digits.length > 1 ? [`[1-9][0-9]{0,${digits.length - 2}}`, ...(from1 ? [] : ['0'])] : [];
  // Numbers as long as max: the same prefix, then a smaller digit, then anything; or max itself.
  for (let i = 0; i < digits.length; i++) {
    const d = Number(digits[i]);
    const low = i === 0 && (digits.length > 1 || from1) ? 1 : 0;
    if (d > low) {
      const rest = digits.length - i - 1;
      const digit = d - 1 === low ? String(low) : `[${low}-${d - 1}]`;
      alternatives.push(`${digits.slice(0, i)}${digit}${rest ? `[0-9]${rest > 1 ? `{${rest}}` : ''}` : ''}`);
    }
  }
  alternatives.push(digits);
  return `(?:${alternatives.join('|')})`;
}

/** No C0 control character nor DEL anywhere. */
export const NO_CONTROL_CHARS = '^[^\\u0000-\\u001f\\u007f]*$';
