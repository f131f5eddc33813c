/** One command of a README code block, as a reader would copy it. */
export interface ReadmeCommand {
  /** `sh`: one shell command (continuation lines joined); `js`: a whole block, run as a module. */
  lang: 'sh' | 'js';
  /** The command (or block) exactly as the README spells it. */
  text: string;
  /** README line (1-based) where the command starts. */
  line: number;
  /** The nearest heading above it. */
  section: string;
}

/**
 * The commands of README.md's ```sh blocks, one per shell command (a line ending in `\`
 * continues on the next; comment lines are not commands), and its ```js blocks whole, in
 * document order. Other fences (output samples) are not commands.
 */
export function readmeCommands(markdown: string): ReadmeCommand[] {
  const lines = markdown.split('\n');
  const out: ReadmeCommand[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{1,6}\s+(.*)$/.exec(lines[i] ?? '');
    if (heading) section = heading[1] ?? '';
    const fence = /^```(\S*)/.exec(lines[i] ?? '');
    if (!fence) continue;
    const lang = fence[1] ?? '';
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    const body = lines.slice(start, end);
    i = end;
    if (lang === 'js') {
      out.push({ lang: 'js', text: body.join('\n'), line: start + 1, section });
    } else if (lang === 'sh') {
      let current: { text: string; line: number } | undefined;
      body.forEach((raw, k) => {
        if (current) current.text += '\n' + raw;
        else if (raw.trim() === '' || raw.trim().startsWith('#')) return;
        else current = { text: raw, line: start + k + 1 };
        if (!raw.endsWith('\\')) {
          out.push({ lang: 'sh', text: current.text, line: current.line, section });
          current = undefined;
        }
      });
      if (current) out.push({ lang: 'sh', text: current.text, line: current.line, section });
    }
  }
  return out;
}
