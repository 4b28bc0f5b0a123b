// The DNS queries the list's names need, A/AAAA and SRV. SIPLB_DNS_SERVERS empty: the system's
// resolver, as before (getaddrinfo for addresses, so /etc/hosts and nsswitch count; SRV from the
// servers in /etc/resolv.conf). Set: those servers for every query, which lets an operator point
// siplb at the DNS that knows the backends (and lets tests use a server on loopback).
import { lookup, Resolver } from 'node:dns/promises';

export interface SrvTarget {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export interface DnsClient {
  /** Every address of `name`, IPv4 first; throws or returns [] when there is none. */
  addresses(name: string): Promise<string[]>;
  /** The SRV records of `name`; throws (ENODATA, ENOTFOUND, ...) when there is none. */
  srv(name: string): Promise<SrvTarget[]>;
}

/** A query gives up after about 2 s (1 s, one retry): a dead server must not hold a reload for long. */
const TIMEOUT_MS = 1000;
const TRIES = 2;

export function dnsClient(servers: readonly string[]): DnsClient {
  const resolver = new Resolver({ timeout: TIMEOUT_MS, tries: TRIES });
  const srv = (name: string): Promise<SrvTarget[]> => resolver.resolveSrv(name);
  if (servers.length === 0) {
    return {
      addresses: async (name) => (await lookup(name, { all: true, verbatim: false })).map((a) => a.address),
      srv,
    };
  }
  resolver.setServers([...servers]);
  const quiet = (p: Promise<string[]>): Promise<string[]> =>
    p.catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENODATA' || err.code === 'ENOTFOUND') return [];
      throw err;
    });
  return {
    async addresses(name) {
      const v4 = await quiet(resolver.resolve4(name));
      return v4.length > 0 ? v4 : quiet(resolver.resolve6(name));
    },
    srv,
  };
}
