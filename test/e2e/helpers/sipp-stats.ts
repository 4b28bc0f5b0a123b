// Reads SIPp's end-of-run statistics from the files it writes when it exits.
//
// - The -trace_stat CSV (';'-separated; timestamps inside a field contain tabs, never ';'): one line
//   per -fd period plus one at exit; the last line holds the cumulative "(C)" counters.
// - The -trace_screen file: the final scenario screen, whose per-message table is the only place with
//   counts per scenario element (e.g. INVITE retransmissions a UAS *received*; the CSV's
//   Retransmissions counter is what SIPp itself *sent*). SIPp leaves this file empty when it is ended
//   by SIGTERM/SIGINT, but then prints the same final screens on stdout, which serves instead.
// Both formats were checked against sip-tester 3.6.1 (Debian bookworm).

export interface SippCounters {
  successful: number;
  failed: number;
  /** Retransmissions SIPp sent (its own timers fired). */
  retransmissions: number;
  /** Calls created (outgoing for a UAC; incoming, OPTIONS included, for a UAS). */
  created: number;
  /** Messages SIPp dropped because their call had already ended. */
  deadCallMessages: number;
  /** Unexpected or out-of-call messages. */
  outOfCallMessages: number;
}

/** One row of the scenario screen, e.g. `INVITE ---------->  2  4  0`. */
export interface SippMessageRow {
  /** Method or status code as SIPp shows it ("INVITE", "180", "INVITE|OPTIONS"). */
  name: string;
  direction: 'sent' | 'received';
  messages: number;
  retrans: number;
  /** Receive or retransmission timeouts on this element. */
  timeouts: number;
  unexpected: number;
}

const COLUMNS: Record<keyof SippCounters, string> = {
  successful: 'SuccessfulCall(C)',
  failed: 'FailedCall(C)',
  retransmissions: 'Retransmissions(C)',
  created: 'TotalCallCreated',
  deadCallMessages: 'DeadCallMsgs(C)',
  outOfCallMessages: 'OutOfCallMsgs(C)',
};

/** Cumulative counters from the last line of a -trace_stat CSV, or undefined if it has no data line. */
export function parseStatCsv(text: string): SippCounters | undefined {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.split(';');
  const last = lines.length > 1 ? lines[lines.length - 1]?.split(';') : undefined;
  if (header === undefined || last === undefined) return undefined;
  const read = (column: string): number => {
    const i = header.indexOf(column);
    const n = i < 0 ? NaN : Number(last[i]);
    if (!Number.isFinite(n)) throw new Error(`SIPp stat CSV: no numeric column ${column}`);
    return n;
  };
  const out = {} as SippCounters;
  for (const [key, column] of Object.entries(COLUMNS) as Array<[keyof SippCounters, string]>) out[key] = read(column);
  return out;
}

/** Fallback when the CSV is missing: the "Successful call" / "Failed call" rows of the screen dump. */
export function parseScreenCounters(text: string): Pick<SippCounters, 'successful' | 'failed'> | undefined {
  const cumulative = (label: string): number | undefined => {
    // "  Successful call        |        0                  |        5" -> the last column.
    const match = new RegExp(`^\\s*${label}\\s*\\|[^|]*\\|\\s*(\\d+)`, 'm').exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  };
  const successful = cumulative('Successful call');
  const failed = cumulative('Failed call');
  return successful === undefined || failed === undefined ? undefined : { successful, failed };
}

const ARROW_OUT = '---------->';
const ARROW_IN = '<----------';

/**
 * The per-element table of the first (scenario) screen in a -trace_screen dump. The name sits left of
 * the arrow for a UAC layout and right of it for a UAS layout; the arrow's direction says which way the
 * message went. Pause and timewait rows have no arrow and are left out.
 */
export function parseScenarioScreen(text: string): SippMessageRow[] {
  // The last scenario screen up to the statistics screen after it: the screen file holds one, SIPp's
  // stdout (the fallback) may hold several.
  const start = Math.max(0, text.lastIndexOf('Scenario Screen'));
  const end = text.indexOf('Statistics Screen', start);
  const screen = text.slice(start, end < 0 ? undefined : end);
  const rows: SippMessageRow[] = [];
  for (const line of screen.split('\n')) {
    const arrow = line.includes(ARROW_OUT) ? ARROW_OUT : line.includes(ARROW_IN) ? ARROW_IN : undefined;
    if (arrow === undefined) continue;
    const at = line.indexOf(arrow);
    const left = line.slice(0, at).trim();
    const rightTokens = line.slice(at + arrow.length).trim().split(/\s+/);
    const nameLeft = left !== '';
    const name = nameLeft ? left : (rightTokens.shift() ?? '');
    // "B-RTD1"/"E-RTD1" markers precede the numbers on rows that start or end a response-time measure.
    const numbers = rightTokens.filter((t) => /^\d+$/.test(t)).map(Number);
    const sent = nameLeft === (arrow === ARROW_OUT);
    rows.push({
      name,
      direction: sent ? 'sent' : 'received',
      messages: numbers[0] ?? 0,
      retrans: numbers[1] ?? 0,
      timeouts: numbers[2] ?? 0,
      unexpected: numbers[3] ?? 0,
    });
  }
  return rows;
}
