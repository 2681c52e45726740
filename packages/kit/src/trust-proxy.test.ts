import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, read, setting } from './config.js';
import { clientAddress, readTrustProxy, trustFunction } from './trust-proxy.js';

const parse = (text: string) => readTrustProxy().safeParse(text);

describe('TRUST_PROXY', () => {
  it('reads false, a hop count or a list of addresses and ranges', () => {
    for (const off of ['false', 'no', 'off', '0', 'none']) expect(parse(off)).toMatchObject({ data: false });
    expect(parse('1')).toMatchObject({ data: 1 });
    expect(parse(' 2 ')).toMatchObject({ data: 2 });
    expect(parse('127.0.0.1, 10.0.0.0/8,::1,loopback')).toMatchObject({
      data: ['127.0.0.1', '10.0.0.0/8', '::1', 'loopback'],
    });
  });

  it('refuses `true` with a message saying what to set instead, and anything it cannot read', () => {
    const spec = { trust: setting('TRUST_PROXY', read.trustProxy(), 'proxies', { default: false as const }) };
    for (const all of ['true', 'TRUE', 'yes', 'on', '*']) {
      try {
        loadConfig(spec, { env: { TRUST_PROXY: all } });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect(String(err)).toMatch(/TRUST_PROXY: `true` \(trust every hop\) is no longer accepted/);
        expect(String(err)).toMatch(/1 for nginx on the same machine/);
      }
    }
    expect(parse('10.0.0.0/33').success).toBe(false);
    expect(parse('nginx.internal').success).toBe(false);
    expect(parse('17').success).toBe(false);
    expect(loadConfig(spec, { env: {} }).trust).toBe(false);
  });

  it('with one hop, takes the address the proxy appended, never one the client wrote', () => {
    const one = trustFunction(1);
    expect(clientAddress('127.0.0.1', '203.0.113.7', one)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.1', '6.6.6.6, 203.0.113.7', one)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.1', ['6.6.6.6', '7.7.7.7, 203.0.113.7'], one)).toBe('203.0.113.7');
    expect(clientAddress('127.0.0.1', undefined, one)).toBe('127.0.0.1');
    expect(clientAddress('203.0.113.9', '6.6.6.6', trustFunction(false))).toBe('203.0.113.9');
  });

  it('with a list, walks back only through the listed proxies', () => {
    const listed = trustFunction(['127.0.0.1', '10.0.0.0/8']);
    expect(clientAddress('127.0.0.1', '6.6.6.6, 203.0.113.7, 10.1.2.3', listed)).toBe('203.0.113.7');
    // A client talking to the server directly is not a proxy: its header is ignored.
    expect(clientAddress('198.51.100.4', '6.6.6.6', listed)).toBe('198.51.100.4');
  });
});
