/**
 * `text` with the control characters a model's names may hold shown as escapes (\x1b, \x0a):
 * printed as they are, a terminal would run them (colours, cursor moves) and a newline would start
 * a line of the model's own, a fake error among them. Tabs stay.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One line on stdout, printable. */
export function say(text: string): void {
  console.log(printable(text));
}
