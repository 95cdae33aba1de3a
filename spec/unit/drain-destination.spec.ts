import type { LookupAddress } from 'node:dns';
import {
  classifyAddress,
  DestinationPolicy,
  DestinationRefused,
  DestinationUnresolved,
  isDestinationRefused,
  METADATA_ADDRESSES,
  parseAddress,
} from '../../drains/destination';

const strict = (resolver?: (h: string) => Promise<LookupAddress[]>) => new DestinationPolicy({ allowPrivate: false, allowCidrs: [], resolver });

async function refusedWith(policy: DestinationPolicy, host: string): Promise<string> {
  try {
    await policy.resolve(host);
  } catch (e) {
    expect(e).toBeInstanceOf(DestinationRefused);
    return (e as Error).message;
  }
  throw new Error(`${host} was allowed`);
}

describe('parseAddress: every numeric spelling', () => {
  it.each([
    ['0x7f.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['[::1]', '::1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['::ffff:7f00:1', '::ffff:7f00:1'],
  ])('%s is %s', (text, normal) => {
    expect(parseAddress(text)?.toString()).toBe(normal);
  });

  it('a host name is not an address', () => {
    expect(parseAddress('logs.example.com')).toBeNull();
    expect(parseAddress('localhost')).toBeNull();
  });
});

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['0.0.0.0', 'an unspecified ("this network") address'],
    ['0.1.2.3', 'an unspecified ("this network") address'],
    ['::', 'an unspecified address'],
    ['169.254.1.1', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['224.0.0.1', 'a multicast address'],
    ['239.255.255.250', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['255.255.255.255', 'the broadcast address'],
    ['240.0.0.1', 'a reserved address'],
    ['::7f00:1', 'an IPv4-compatible IPv6 address (deprecated)'],
  ])('%s is refused: %s', (address, kind) => {
    expect(classifyAddress(address)).toEqual({ verdict: 'refused', kind });
  });

  it.each(METADATA_ADDRESSES)('metadata address %s is refused', (address) => {
    expect(classifyAddress(address)).toEqual({ verdict: 'refused', kind: 'a cloud metadata address' });
  });

  it.each([
    ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['172.31.255.255', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['fd12:3456::1', 'a unique local (private) address'],
  ])('%s is private: %s', (address, kind) => {
    expect(classifyAddress(address)).toEqual({ verdict: 'private', kind });
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '192.0.2.10', '2001:db8::1'])(
    '%s is public',
    (address) => {
      expect(classifyAddress(address).verdict).toBe('public');
    },
  );

  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['::ffff:0:7f00:1', '127.0.0.1'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254'],
    ['2002:7f00:1::1', '127.0.0.1'],
    // Teredo: client 127.0.0.1 stored inverted (80ff:fffe).
    ['2001:0:808:808:0:0:80ff:fffe', '127.0.0.1'],
  ])('the IPv6 form %s is judged by the IPv4 address it carries (%s)', (address, inner) => {
    const c = classifyAddress(address);
    expect(c.verdict).toBe('refused');
    expect(c.embedded).toBe(inner);
  });

  it('a private IPv4 address in IPv6 form is private', () => {
    expect(classifyAddress('::ffff:10.0.0.1')).toMatchObject({ verdict: 'private', embedded: '10.0.0.1' });
  });
});

describe('DestinationPolicy', () => {
  it('refuses the literal spellings of loopback with a clear reason', async () => {
    const p = strict();
    expect(await refusedWith(p, '127.0.0.1')).toBe('127.0.0.1 is a loopback address');
    expect(await refusedWith(p, '0x7f.1')).toBe('127.0.0.1 is a loopback address');
    expect(await refusedWith(p, '2130706433')).toBe('127.0.0.1 is a loopback address');
    expect(await refusedWith(p, '[::1]')).toBe('::1 is a loopback address');
    expect(await refusedWith(p, '::ffff:127.0.0.1')).toBe('::ffff:7f00:1 is an IPv6 form of 127.0.0.1, a loopback address');
    expect(await refusedWith(p, '169.254.169.254')).toBe('169.254.169.254 is a cloud metadata address');
  });

  it('refuses localhost, *.localhost and trailing-dot spellings without asking DNS', async () => {
    const resolver = jest.fn(async () => [{ address: '8.8.8.8', family: 4 }]);
    const p = strict(resolver);
    expect(await refusedWith(p, 'localhost')).toBe('localhost resolves to 127.0.0.1, a loopback address');
    expect(await refusedWith(p, 'LOCALHOST.')).toMatch(/loopback/);
    expect(await refusedWith(p, 'redis.localhost')).toMatch(/loopback/);
    expect(resolver).not.toHaveBeenCalled();
  });

  it('refuses a name when any one of its addresses is refused', async () => {
    const p = strict(async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ]);
    expect(await refusedWith(p, 'mixed.example.com')).toBe('mixed.example.com resolves to 10.0.0.5, a private address');
  });

  it('a name that does not resolve is DestinationUnresolved (not refused)', async () => {
    const p = strict(async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nope.invalid'), { code: 'ENOTFOUND' });
    });
    await expect(p.resolve('nope.invalid')).rejects.toBeInstanceOf(DestinationUnresolved);
    await expect(strict(async () => []).resolve('empty.example.com')).rejects.toBeInstanceOf(DestinationUnresolved);
  });

  it('DRAIN_ALLOW_PRIVATE allows private ranges, never loopback or metadata', async () => {
    const p = new DestinationPolicy({ allowPrivate: true, allowCidrs: [] });
    expect(p.refusal('10.0.0.1')).toBeNull();
    expect(p.refusal('fd12::1')).toBeNull();
    expect(p.refusal('100.64.1.1')).toBeNull();
    expect(p.refusal('127.0.0.1')).toBe('a loopback address');
    expect(p.refusal('fd00:ec2::254')).toBe('a cloud metadata address');
    expect(p.refusal('100.100.100.200')).toBe('a cloud metadata address');
    expect(strict().refusal('10.0.0.1')).toBe('a private address');
  });

  it('DRAIN_ALLOW_CIDRS allows exactly the ranges it names (and their IPv6 forms)', () => {
    const p = new DestinationPolicy({ allowPrivate: false, allowCidrs: ['127.0.0.0/8', '::1/128', '10.1.0.0/16'] });
    expect(p.refusal('127.0.0.1')).toBeNull();
    expect(p.refusal('::1')).toBeNull();
    expect(p.refusal('::ffff:127.0.0.2')).toBeNull();
    expect(p.refusal('10.1.2.3')).toBeNull();
    expect(p.refusal('10.2.0.1')).toBe('a private address');
    expect(p.refusal('169.254.169.254')).toBe('a cloud metadata address');
  });

  it('checks again at every lookup: a name rebound to loopback after creation is refused at connect', async () => {
    const answers = [[{ address: '93.184.215.14', family: 4 }], [{ address: '127.0.0.1', family: 4 }]];
    let n = 0;
    const p = strict(async () => answers[Math.min(n++, answers.length - 1)]);
    await expect(p.resolve('rebind.example.com')).resolves.toEqual(answers[0]);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => p.lookup('rebind.example.com', {}, (e) => resolve(e)));
    expect(isDestinationRefused(err)).toBe(true);
    expect(err?.message).toBe('rebind.example.com resolves to 127.0.0.1, a loopback address');
  });

  it('lookup answers in the shape net.connect asks for (one address, or all; by family)', async () => {
    const p = strict(async () => [
      { address: '2606:4700::1111', family: 6 },
      { address: '93.184.215.14', family: 4 },
    ]);
    const one = await new Promise((resolve) => p.lookup('h.example.com', {}, (e, address, family) => resolve({ e, address, family })));
    expect(one).toEqual({ e: null, address: '2606:4700::1111', family: 6 });
    const v4 = await new Promise((resolve) => p.lookup('h.example.com', { family: 4 }, (e, address, family) => resolve({ e, address, family })));
    expect(v4).toEqual({ e: null, address: '93.184.215.14', family: 4 });
    const all = await new Promise((resolve) => p.lookup('h.example.com', { all: true }, (e, address) => resolve(address)));
    expect(all).toHaveLength(2);
  });
});
