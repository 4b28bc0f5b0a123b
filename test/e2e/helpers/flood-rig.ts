// Pieces of the flood e2e test: the USR2 report of a running siplb read as numbers, and one call
// placed by a plain UAC (INVITE, ACK, BYE following Record-Route) to see that siplb still serves.
import { type ProxyProcess } from '../../helpers/proxy-process.js';
import { headerValues } from '../../helpers/sip-messages.js';
import { Peer } from '../../helpers/udp-peer.js';

export interface Report {
  rss: number;
  heap: number;
  workersHeap: number;
  floodDropped: number;
  floodBlocks: number;
  floodBlockedSources: number;
  udpReceived: number;
  overloadRejected: number;
}

function counter(text: string, name: string): number {
  return Number(new RegExp(`\\n {2}${name} (\\d+)\\n`).exec(text)?.[1] ?? 0);
}

/** kill -USR2, then the report it prints (the part of stdout after the signal). */
export async function sampleReport(proxy: ProxyProcess): Promise<Report> {
  const from = proxy.stdout().length;
  proxy.child.kill('SIGUSR2');
  for (let i = 0; i < 200 && !proxy.stdout().slice(from).includes('latency (µs'); i++) await new Promise((r) => setTimeout(r, 25));
  const text = proxy.stdout().slice(from);
  if (!text.includes('rss_bytes')) throw new Error(`no USR2 report within 5 s:\n${text}`);
  return {
    rss: counter(text, 'rss_bytes'),
    heap: counter(text, 'heap_used_bytes'),
    workersHeap: counter(text, 'workers_heap_used_bytes'),
    floodDropped: counter(text, 'flood_dropped'),
    floodBlocks: counter(text, 'flood_blocks'),
    floodBlockedSources: counter(text, 'flood_blocked_sources'),
    udpReceived: counter(text, 'udp_received'),
    overloadRejected: counter(text, 'overload_rejected'),
  };
}

function request(method: 'INVITE' | 'ACK' | 'BYE', uri: string, uac: Peer, id: string, cseq: number, lines: string[] = []): string {
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-${id}-${method};rport`,
    'Max-Forwards: 70',
    `From: <sip:caller@127.0.0.1:${uac.port}>;tag=${id}`,
    ...lines,
    `Call-ID: ${id}@127.0.0.1`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:caller@127.0.0.1:${uac.port}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** One call through siplb from 127.0.0.1; the status lines of the final answers to INVITE and BYE. */
export async function callThrough(proxyPort: number, id: string): Promise<string[]> {
  const uac = await Peer.open();
  try {
    const finals = (): string[] => uac.received.filter((r) => /^SIP\/2\.0 [2-6]/.test(r.first)).map((r) => r.first);
    uac.send(request('INVITE', `sip:service@127.0.0.1:${proxyPort}`, uac, id, 1, [`To: <sip:service@127.0.0.1:${proxyPort}>`]), proxyPort);
    await uac.waitFor(() => finals().length === 1);
    const ok = uac.received.find((r) => r.first.startsWith('SIP/2.0 200'));
    if (ok === undefined) return finals();
    const target = headerValues(ok.text, 'Contact')[0]!.replace(/^<|>$/g, '');
    const dialog = [...headerValues(ok.text, 'Record-Route').map((r) => `Route: ${r}`), `To: ${headerValues(ok.text, 'To')[0]!}`];
    uac.send(request('ACK', target, uac, id, 1, dialog), proxyPort);
    uac.send(request('BYE', target, uac, id, 2, dialog), proxyPort);
    await uac.waitFor(() => finals().length === 2);
    return finals();
  } finally {
    await uac.close();
  }
}
