// What the benchmark reads from /proc: CPU of a process tree (user+system of every thread of every
// process: /proc/PID/stat already sums a process's threads), and the kernel's UDP receive-buffer
// drops. Linux only, like the rest of the benchmark.
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc times are in these ticks (100 on every Linux this runs on). */
const CLK_TCK = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: split after the last ')'
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // the process is gone
  }
}

/** `pid` and all its living descendants (Linux, from the ppid field of /proc/*\/stat). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(Number(name));
    if (fields === undefined || fields[0] === 'Z') continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [Number(name)]);
    else list.push(Number(name));
  }
  if (statFields(pid) === undefined) return [];
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i] ?? -1) ?? []));
  return tree;
}

/** utime+stime in seconds, summed over `pids` (or over processTree(pid) for a single number). A
 *  process that is gone counts 0: measure with a tree whose processes live through the run. */
export function treeCpuSeconds(pids: number | readonly number[]): number {
  const list = typeof pids === 'number' ? processTree(pids) : pids;
  let ticks = 0;
  for (const pid of list) {
    const fields = statFields(pid);
    if (fields === undefined) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLK_TCK;
}

/** CPU seconds of one process (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLK_TCK : 0;
}

/** UDP RcvbufErrors since boot (/proc/net/snmp): datagrams the kernel dropped for a full socket buffer. */
export function rcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const head = lines[0]?.split(/\s+/) ?? [];
  const vals = lines[1]?.split(/\s+/) ?? [];
  const i = head.indexOf('RcvbufErrors');
  return i < 0 ? 0 : Number(vals[i]);
}

export function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/** Resident memory of a process tree, bytes: RSS summed (shared pages counted in every process that
 *  maps them) and PSS summed (shared pages divided among their users: the fair total for a
 *  multi-process server like Kamailio, whose children share its shared memory). */
export function treeMemory(pid: number): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const p of processTree(pid)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
    } catch {
      continue; // gone, or a kernel without smaps_rollup
    }
    rss += Number(/^Rss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
    pss += Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
  }
  return { rss, pss };
}
