/**
 * Where a drain may send a tenant's lines (issue 9 item 4, docs/security.md "Drain destinations").
 * A drain url is chosen by whoever holds an API key on behalf of a tenant, and the worker connects
 * from inside the platform's network: without a policy a drain is a request forgery primitive
 * (cloud metadata, the node's own Redis/InfluxDB, the pod network). Every address a host resolves
 * to is checked, at creation and again at every connect, and the connect uses the checked address
 * (`lookup`), so a name that resolves to a public address when created and to 127.0.0.1 a second
 * later (DNS rebinding) is still refused.
 */
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Config } from '../lib/config';

export type Verdict = 'public' | 'private' | 'refused';

export interface Classification {
  verdict: Verdict;
  /** What the address is, as a noun phrase: `a loopback address`. */
  kind: string;
  /** The IPv4 address an IPv6 form carries (mapped, NAT64, 6to4, Teredo), when its verdict came from it. */
  embedded?: string;
}

type Range = [string, string];

/**
 * Cloud metadata and host-agent endpoints: refused even with DRAIN_ALLOW_PRIVATE (some sit in
 * private or public space). AWS IMDS and ECS/EKS credentials, GCP, Azure IMDS and WireServer,
 * OpenStack, DigitalOcean, Oracle Cloud, Alibaba Cloud.
 */
export const METADATA_ADDRESSES = [
  '169.254.169.254',
  '169.254.170.2',
  '169.254.170.23',
  '168.63.129.16',
  '100.100.100.200',
  '192.0.0.192',
  'fd00:ec2::254',
  'fd00:ec2::23',
  'fd20:ce::254',
];

/**
 * Refused unless DRAIN_ALLOW_CIDRS names them. Checked in order: the first match names the reason.
 * The documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) are left public
 * on purpose: nothing answers there, which makes them the harmless destinations examples and tests use.
 */
const REFUSED: Range[] = [
  ['0.0.0.0/8', 'an unspecified ("this network") address'],
  ['127.0.0.0/8', 'a loopback address'],
  ['169.254.0.0/16', 'a link-local address'],
  ['224.0.0.0/4', 'a multicast address'],
  ['255.255.255.255/32', 'the broadcast address'],
  ['240.0.0.0/4', 'a reserved address'],
  ['192.0.0.0/24', 'a reserved (IETF protocol assignments) address'],
  ['198.18.0.0/15', 'a reserved (benchmarking) address'],
  ['::/128', 'an unspecified address'],
  ['::1/128', 'a loopback address'],
  // RFC 4291 §2.5.5.1: deprecated, and some stacks still route them to the embedded IPv4 address.
  ['::/96', 'an IPv4-compatible IPv6 address (deprecated)'],
  ['fe80::/10', 'a link-local address'],
  ['fec0::/10', 'a site-local address (deprecated)'],
  ['ff00::/8', 'a multicast address'],
  ['100::/64', 'a discard-only address'],
];

/** Refused unless DRAIN_ALLOW_PRIVATE=true (on-premise sinks) or DRAIN_ALLOW_CIDRS names them. */
const PRIVATE: Range[] = [
  ['10.0.0.0/8', 'a private address'],
  ['172.16.0.0/12', 'a private address'],
  ['192.168.0.0/16', 'a private address'],
  // RFC 6598 shared space: inside a provider's network, so as reachable-from-here as 10/8.
  ['100.64.0.0/10', 'a carrier-grade NAT address'],
  ['fc00::/7', 'a unique local (private) address'],
  ['64:ff9b:1::/48', 'a local-use NAT64 address'],
];

const parsedRanges = (ranges: Range[]) => ranges.map(([cidr, kind]) => ({ range: ipaddr.parseCIDR(cidr), kind }));
const REFUSED_RANGES = parsedRanges(REFUSED);
const PRIVATE_RANGES = parsedRanges(PRIVATE);
const METADATA = new Set(METADATA_ADDRESSES.map((a) => ipaddr.parse(a).toNormalizedString()));

function inRanges(addr: ipaddr.IPv4 | ipaddr.IPv6, ranges: typeof REFUSED_RANGES): string | null {
  for (const { range, kind } of ranges) {
    if (addr.kind() === range[0].kind() && addr.match(range)) return kind;
  }
  return null;
}

const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);

/** The IPv4 addresses an IPv6 address routes to: mapped, SIIT, NAT64 (RFC 6052), 6to4, Teredo. */
function embeddedIPv4(a: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = a.parts;
  const zero = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && p[5] === 0xffff) return [v4(p[6], p[7])];
  if (zero(0, 4) && p[4] === 0xffff && p[5] === 0) return [v4(p[6], p[7])];
  if (p[0] === 0x64 && p[1] === 0xff9b && zero(2, 6)) return [v4(p[6], p[7])];
  if (p[0] === 0x2002) return [v4(p[1], p[2])];
  // Teredo (RFC 4380 §4): the server, and the client with its bits inverted.
  if (p[0] === 0x2001 && p[1] === 0) return [v4(p[2], p[3]), v4(~p[6] & 0xffff, ~p[7] & 0xffff)];
  return [];
}

/** Parses any numeric spelling (`0x7f.1`, `2130706433`, `017700000001`, `[::ffff:7f00:1]`); null for a name. */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bare = text.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (!ipaddr.isValid(bare)) return null;
  try {
    return ipaddr.parse(bare);
  } catch {
    return null;
  }
}

function classifyParsed(a: ipaddr.IPv4 | ipaddr.IPv6): Classification {
  if (METADATA.has(a.toNormalizedString())) return { verdict: 'refused', kind: 'a cloud metadata address' };
  if (a.kind() === 'ipv6') {
    const inner = embeddedIPv4(a as ipaddr.IPv6);
    if (inner.length > 0) {
      // The verdict of the worst address it carries (a Teredo address carries two).
      const order: Verdict[] = ['public', 'private', 'refused'];
      let worst: Classification | null = null;
      for (const i of inner) {
        const c = classifyParsed(i);
        if (!worst || order.indexOf(c.verdict) > order.indexOf(worst.verdict)) worst = { ...c, embedded: i.toString() };
      }
      return worst as Classification;
    }
  }
  const refused = inRanges(a, REFUSED_RANGES);
  if (refused) return { verdict: 'refused', kind: refused };
  const priv = inRanges(a, PRIVATE_RANGES);
  if (priv) return { verdict: 'private', kind: priv };
  return { verdict: 'public', kind: 'a public address' };
}

/** What an address is, before any setting: public, private (DRAIN_ALLOW_PRIVATE) or refused. Never throws. */
export function classifyAddress(address: string): Classification {
  const a = parseAddress(address);
  if (!a) return { verdict: 'refused', kind: 'not an IP address' };
  return classifyParsed(a);
}

/** The destination is not allowed: permanent (the same answer until the drain or the settings change). */
export class DestinationRefused extends Error {
  readonly code = 'EDRAINDESTINATION';
  constructor(
    public host: string,
    public address: string,
    public reason: string,
  ) {
    super(host === address || parseAddress(host) !== null ? `${address} is ${reason}` : `${host} resolves to ${address}, ${reason}`);
    this.name = 'DestinationRefused';
  }
}

/** The host did not resolve (or not in time): retryable at connect time, 422 at creation. */
export class DestinationUnresolved extends Error {
  readonly code: string;
  constructor(
    public host: string,
    cause: string,
    code = 'ENOTFOUND',
  ) {
    super(`${host} could not be resolved (${cause})`);
    this.name = 'DestinationUnresolved';
    this.code = code;
  }
}

export type Resolver = (host: string) => Promise<dns.LookupAddress[]>;

export interface DestinationPolicyOptions {
  allowPrivate: boolean;
  /** CIDRs allowed whatever they are (validated by lib/config). */
  allowCidrs: string[];
  /** Default: dns.lookup with all addresses, in the resolver's order. */
  resolver?: Resolver;
  resolveTimeoutMs?: number;
}

const systemResolver: Resolver = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

/** RFC 6761 §6.3: `localhost` and `*.localhost` are loopback, whatever a resolver says. */
const LOCALHOST = /^(?:.*\.)?localhost\.?$/i;
const LOCALHOST_ADDRESSES: dns.LookupAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

export class DestinationPolicy {
  private allow = new net.BlockList();
  private resolver: Resolver;
  private timeoutMs: number;

  constructor(private opts: DestinationPolicyOptions) {
    for (const cidr of opts.allowCidrs) {
      const [range, bits] = ipaddr.parseCIDR(cidr);
      this.allow.addSubnet(range.toString(), bits, range.kind());
    }
    this.resolver = opts.resolver ?? systemResolver;
    this.timeoutMs = opts.resolveTimeoutMs ?? 5000;
  }

  static fromConfig(config: Pick<Config, 'drainAllowPrivate' | 'drainAllowCidrs'>, resolver?: Resolver): DestinationPolicy {
    return new DestinationPolicy({ allowPrivate: config.drainAllowPrivate, allowCidrs: config.drainAllowCidrs, resolver });
  }

  private allowListed(a: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    if (this.allow.check(a.toString(), a.kind())) return true;
    return a.kind() === 'ipv6' && embeddedIPv4(a as ipaddr.IPv6).some((i) => this.allow.check(i.toString(), 'ipv4'));
  }

  /** Why this address may not be a drain destination, or null when it may. Never throws. */
  refusal(address: string): string | null {
    const a = parseAddress(address);
    if (!a) return 'not an IP address';
    if (this.allowListed(a)) return null;
    const c = classifyParsed(a);
    if (c.verdict === 'public' || (c.verdict === 'private' && this.opts.allowPrivate)) return null;
    return c.embedded ? `an IPv6 form of ${c.embedded}, ${c.kind}` : c.kind;
  }

  /**
   * Every address `host` resolves to (a literal in any spelling: itself), each allowed; else throws
   * DestinationRefused naming the first refused one, or DestinationUnresolved.
   */
  async resolve(host: string): Promise<dns.LookupAddress[]> {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    const literal = parseAddress(bare);
    let addresses: dns.LookupAddress[];
    if (literal) {
      addresses = [{ address: literal.toString(), family: literal.kind() === 'ipv6' ? 6 : 4 }];
    } else if (LOCALHOST.test(bare)) {
      addresses = LOCALHOST_ADDRESSES;
    } else {
      addresses = await this.lookupAll(bare);
    }
    for (const { address } of addresses) {
      const why = this.refusal(address);
      if (why) throw new DestinationRefused(bare, address, why);
    }
    return addresses;
  }

  private async lookupAll(host: string): Promise<dns.LookupAddress[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DestinationUnresolved(host, `no answer within ${this.timeoutMs} ms`, 'ETIMEOUT')), this.timeoutMs);
    });
    try {
      const found = await Promise.race([this.resolver(host), timeout]);
      if (found.length === 0) throw new DestinationUnresolved(host, 'no addresses');
      return found;
    } catch (e) {
      if (e instanceof DestinationUnresolved) throw e;
      const err = e as NodeJS.ErrnoException;
      throw new DestinationUnresolved(host, err.code ?? err.message, err.code ?? 'ENOTFOUND');
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A `lookup` for net.connect, tls.connect and http(s).request: resolves through the policy, so the
   * socket connects to an address that was just checked. Node skips `lookup` for a literal address:
   * transports check those with `refusal` before connecting.
   */
  readonly lookup: net.LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname).then(
      (all) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
        const wanted = family === 0 ? all : all.filter((a) => a.family === family);
        if (wanted.length === 0) {
          const e = new DestinationUnresolved(hostname, `no IPv${family} address`) as NodeJS.ErrnoException;
          callback(e, options.all ? [] : '', family);
          return;
        }
        if (options.all) callback(null, wanted);
        else callback(null, wanted[0].address, wanted[0].family);
      },
      (e: NodeJS.ErrnoException) => callback(e, options.all ? [] : '', 0),
    );
  };
}

/** A connect-time refusal, however a socket library wrapped it. */
export function isDestinationRefused(e: unknown): e is DestinationRefused {
  return e instanceof DestinationRefused || (e as { code?: unknown } | null)?.code === 'EDRAINDESTINATION';
}
