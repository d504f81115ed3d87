import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError, OutputFetchError } from '../../src/errors.js';
import {
  addressRange,
  isPublicAddress,
  type LookupAll,
  resolveTarget,
} from '../../src/outputs/check-address.js';
import { checkUrl } from '../../src/outputs/check-url.js';
import {
  DEFAULT_MAX_REDIRECTS,
  type FetchPolicy,
  fetchPolicyFromConfig,
} from '../../src/outputs/fetch-policy.js';
import { matchAllowList, parseAllowEntry, parseAllowList } from '../../src/outputs/host-allow-list.js';

const closed: FetchPolicy = { allowedHosts: [], allowPrivate: false, maxBytes: 1024, timeoutMs: 1000 };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as OutputFetchError).code;
  }
  return undefined;
}

async function rejection(p: Promise<unknown>): Promise<OutputFetchError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OutputFetchError);
  return e as OutputFetchError;
}

describe('address classification', () => {
  it('accepts public unicast IPv4 and IPv6, including IPv4-mapped public addresses', () => {
    for (const ip of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPublicAddress(ip), ip).toBe(true);
    }
  });

  it('refuses loopback, private, link-local, CGNAT, multicast, unspecified and reserved addresses', () => {
    const cases: Record<string, string> = {
      '127.0.0.1': 'loopback',
      '127.8.9.10': 'loopback',
      '10.0.0.1': 'private',
      '172.16.5.4': 'private',
      '172.31.255.255': 'private',
      '192.168.1.1': 'private',
      '169.254.169.254': 'linkLocal',
      '100.64.0.1': 'carrierGradeNat',
      '0.0.0.0': 'unspecified',
      '224.0.0.1': 'multicast',
      '255.255.255.255': 'broadcast',
      '240.0.0.1': 'reserved',
      '::1': 'loopback',
      '::': 'unspecified',
      'fe80::1': 'linkLocal',
      'fc00::1': 'uniqueLocal',
      'fd12:3456::1': 'uniqueLocal',
      'ff02::1': 'multicast',
    };
    for (const [ip, range] of Object.entries(cases)) {
      expect(addressRange(ip), ip).toBe(range);
      expect(isPublicAddress(ip), ip).toBe(false);
    }
  });

  it('judges IPv4-mapped IPv6 by the IPv4 address it carries', () => {
    expect(addressRange('::ffff:127.0.0.1')).toBe('loopback');
    expect(addressRange('::ffff:7f00:1')).toBe('loopback');
    expect(addressRange('::ffff:169.254.169.254')).toBe('linkLocal');
    expect(addressRange('::ffff:10.1.2.3')).toBe('private');
  });

  it('refuses IPv6 forms that embed or tunnel to IPv4 (NAT64, 6to4, Teredo) and non-addresses', () => {
    for (const ip of ['64:ff9b::a00:1', '2002:a00:1::1', '2001::1', 'not-an-ip']) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
  });
});

describe('resolving a target', () => {
  const dns =
    (answers: Record<string, string[]>): LookupAll =>
    async (host) => {
      const a = answers[host];
      if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };

  it('returns every public address of a name', async () => {
    const lookup = dns({ 'cdn.example': ['93.184.216.34', '2606:2800:220:1::1'] });
    expect((await resolveTarget('cdn.example', false, lookup)).map((a) => a.address)).toEqual([
      '93.184.216.34',
      '2606:2800:220:1::1',
    ]);
  });

  it('refuses a name when any one of its addresses is private', async () => {
    const lookup = dns({ 'mixed.example': ['93.184.216.34', '10.0.0.5'] });
    const err = await rejection(resolveTarget('mixed.example', false, lookup));
    expect(err.code).toBe('OUTPUT_URL_FORBIDDEN');
    expect(err.message).toContain('10.0.0.5');
  });

  it('lets private addresses through only with consent', async () => {
    const lookup = dns({ internal: ['192.168.1.10'] });
    expect((await rejection(resolveTarget('internal', false, lookup))).code).toBe('OUTPUT_URL_FORBIDDEN');
    expect(await resolveTarget('internal', true, lookup)).toEqual([{ address: '192.168.1.10', family: 4 }]);
  });

  it('checks IP literals without DNS', async () => {
    const noDns: LookupAll = async () => {
      throw new Error('DNS must not be asked');
    };
    expect((await rejection(resolveTarget('169.254.169.254', false, noDns))).code).toBe(
      'OUTPUT_URL_FORBIDDEN',
    );
    expect(await resolveTarget('8.8.8.8', false, noDns)).toEqual([{ address: '8.8.8.8', family: 4 }]);
  });

  it('a name that does not resolve is a retryable fetch failure', async () => {
    const err = await rejection(resolveTarget('nowhere.example', false, dns({})));
    expect(err.code).toBe('OUTPUT_FETCH_FAILED');
    expect(err.retryable).toBe(true);
  });
});

describe('host allow-list', () => {
  it('parses hosts, host:port, IPv6 literals and *.suffix wildcards, and rejects the rest', () => {
    expect(parseAllowEntry('im.runware.ai')).toEqual({
      kind: 'exact',
      host: 'im.runware.ai',
      port: undefined,
    });
    expect(parseAllowEntry('127.0.0.1:8080')).toEqual({ kind: 'exact', host: '127.0.0.1', port: 8080 });
    expect(parseAllowEntry('[::1]:9000')).toEqual({ kind: 'exact', host: '::1', port: 9000 });
    expect(parseAllowEntry('::1')).toEqual({ kind: 'exact', host: '::1', port: undefined });
    expect(parseAllowEntry('*.Runware.AI')).toEqual({
      kind: 'wildcard',
      host: '.runware.ai',
      port: undefined,
    });
    for (const bad of [
      'https://im.runware.ai',
      '*',
      '*.',
      'a b',
      'host:0',
      'host:70000',
      'im.runware.ai/x',
    ]) {
      expect(parseAllowEntry(bad), bad).toBeNull();
    }
  });

  it('an exact entry matches its host on any port; a host:port entry only on that port', () => {
    expect(matchAllowList(['im.runware.ai'], 'IM.runware.ai', 443)).toBe('exact');
    expect(matchAllowList(['im.runware.ai'], 'im.runware.ai.', 8443)).toBe('exact');
    expect(matchAllowList(['127.0.0.1:8080'], '127.0.0.1', 8080)).toBe('exact');
    expect(matchAllowList(['127.0.0.1:8080'], '127.0.0.1', 8081)).toBe('none');
    expect(matchAllowList(['[::1]:8080'], '[::1]', 8080)).toBe('exact');
  });

  it('a wildcard matches subdomains at any depth, but not the bare domain, look-alikes or IP literals', () => {
    const list = ['*.runware.ai'];
    expect(matchAllowList(list, 'im.runware.ai', 443)).toBe('wildcard');
    expect(matchAllowList(list, 'a.b.runware.ai', 443)).toBe('wildcard');
    expect(matchAllowList(list, 'runware.ai', 443)).toBe('none');
    expect(matchAllowList(list, 'evilrunware.ai', 443)).toBe('none');
    expect(matchAllowList(list, 'runware.ai.evil.com', 443)).toBe('none');
    expect(matchAllowList(['*.0.0.1'], '127.0.0.1', 80)).toBe('none');
  });

  it('an exact entry wins over a wildcard for the same host', () => {
    expect(matchAllowList(['*.example.com', 'img.example.com'], 'img.example.com', 443)).toBe('exact');
  });
});

describe('checking a URL before any connection', () => {
  it('allows http and https only', () => {
    expect(checkUrl('https://im.runware.ai/image/x.jpg', closed).port).toBe(443);
    expect(checkUrl('http://im.runware.ai/x.jpg', closed).port).toBe(80);
    for (const url of [
      'file:///etc/passwd',
      'ftp://example.com/x.png',
      'data:image/png;base64,iVBORw0KGgo=',
      'gopher://example.com/',
      'javascript:alert(1)',
      'ws://example.com/',
      '/relative/path.png',
      'not a url',
    ]) {
      expect(
        codeOf(() => checkUrl(url, closed)),
        url,
      ).toBe('OUTPUT_URL_FORBIDDEN');
    }
  });

  it('refuses URLs carrying credentials', () => {
    expect(codeOf(() => checkUrl('https://user:pw@im.runware.ai/x.jpg', closed))).toBe(
      'OUTPUT_URL_FORBIDDEN',
    );
  });

  it('with a non-empty allow-list, refuses hosts outside it', () => {
    const policy = { ...closed, allowedHosts: ['*.runware.ai'] };
    expect(checkUrl('https://im.runware.ai/x.jpg', policy).privateConsent).toBe(false);
    expect(codeOf(() => checkUrl('https://evil.example/x.jpg', policy))).toBe('OUTPUT_URL_FORBIDDEN');
  });

  it('grants private-address consent for an exact entry or allowPrivate, never for a wildcard', () => {
    expect(
      checkUrl('http://127.0.0.1:9000/', { ...closed, allowedHosts: ['127.0.0.1:9000'] }).privateConsent,
    ).toBe(true);
    expect(checkUrl('http://a.internal/', { ...closed, allowedHosts: ['*.internal'] }).privateConsent).toBe(
      false,
    );
    expect(checkUrl('http://a.internal/', { ...closed, allowPrivate: true }).privateConsent).toBe(true);
  });

  it('normalises the host so alternative spellings of an address are still recognised', () => {
    expect(checkUrl('http://0x7f.1/', closed).host).toBe('127.0.0.1');
    expect(checkUrl('http://[0:0:0:0:0:0:0:1]/', closed).host).toBe('::1');
    expect(checkUrl('http://[::ffff:127.0.0.1]/', closed).host).toBe('::ffff:7f00:1');
  });
});

describe('fetch policy from config', () => {
  it('maps the FETCH_* variables and MAX_OUTPUT_BYTES', () => {
    const policy = fetchPolicyFromConfig(
      loadConfig({
        FETCH_ALLOWED_HOSTS: 'im.runware.ai, *.cdn.example,127.0.0.1:9000',
        FETCH_ALLOW_PRIVATE: 'true',
        MAX_OUTPUT_BYTES: '1234',
        FETCH_TIMEOUT_MS: '5000',
      }),
    );
    expect(policy).toEqual({
      allowedHosts: ['im.runware.ai', '*.cdn.example', '127.0.0.1:9000'],
      allowPrivate: true,
      maxBytes: 1234,
      timeoutMs: 5000,
      maxRedirects: DEFAULT_MAX_REDIRECTS,
    });
    expect(Object.isFrozen(policy)).toBe(true);
  });

  it('parses the allow-list once, at startup: every later check reuses the same parse', () => {
    const policy = fetchPolicyFromConfig(loadConfig({ FETCH_ALLOWED_HOSTS: 'im.runware.ai,*.cdn.example' }));
    const first = parseAllowList(policy.allowedHosts);
    expect(first).toEqual([parseAllowEntry('im.runware.ai'), parseAllowEntry('*.cdn.example')]);
    expect(checkUrl('https://im.runware.ai/x.jpg', policy).privateConsent).toBe(true);
    expect(checkUrl('https://a.cdn.example/x.jpg', policy).privateConsent).toBe(false);
    expect(parseAllowList(policy.allowedHosts)).toBe(first);
    // A list that can still change is parsed afresh each time, so a later edit is never missed.
    const open = ['im.runware.ai'];
    expect(parseAllowList(open)).not.toBe(parseAllowList(open));
    open.push('other.example');
    expect(matchAllowList(open, 'other.example', 443)).toBe('exact');
  });

  it('defaults to no allow-list, no private addresses', () => {
    const policy = fetchPolicyFromConfig(loadConfig({}));
    expect(policy.allowedHosts).toEqual([]);
    expect(policy.allowPrivate).toBe(false);
  });

  it('fails fast naming FETCH_ALLOWED_HOSTS when an entry could never match', () => {
    expect(() => fetchPolicyFromConfig(loadConfig({ FETCH_ALLOWED_HOSTS: 'https://im.runware.ai' }))).toThrow(
      ConfigError,
    );
    expect(() => fetchPolicyFromConfig(loadConfig({ FETCH_ALLOWED_HOSTS: '*' }))).toThrow(
      /FETCH_ALLOWED_HOSTS/,
    );
  });
});
