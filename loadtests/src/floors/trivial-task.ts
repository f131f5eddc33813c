/** The piscina floor's task: parse the event and answer, as a no-op handler would. */
export default function trivialTask(payload: string): string {
  JSON.parse(payload);
  return '{"ok":true}';
}
