/** Text made safe for HTML content and quoted attribute values: the pages the shim serves to browsers. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
