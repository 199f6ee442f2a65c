import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { promises as dns } from 'node:dns';
import ipaddr from 'ipaddr.js';
import type { Config } from '../../config';
import { normalizeHost } from '../../lib/host';

/**
 * Where webhooks may be delivered (SSRF): public http(s) receivers only, unless the operator allows more.
 * A URL is checked when a webhook is created or changed, and again at every delivery, on the address the
 * connection is actually made to: the host is resolved once, every address checked, and the socket
 * connects to the checked address (a `lookup` of the HTTP request), so a name that resolves to a public
 * address when checked and to 127.0.0.1 a moment later (DNS rebinding) cannot reach the gateway's network.
 *
 * Refused by default: loopback, private (RFC 1918), carrier-grade NAT, link-local, unique-local
 * (fc00::/7), multicast, broadcast, unspecified, reserved and documentation ranges, IPv6 outside global
 * unicast (2000::/3) and the IPv6 forms that embed an IPv4 address (NAT64, 6to4, Teredo), cloud metadata
 * endpoints, and the name `localhost` (with its subdomains). IPv4-mapped IPv6 (::ffff:127.0.0.1) is
 * judged as the IPv4 address it maps.
 * - WEBHOOK_ALLOW_PRIVATE=true also allows loopback, private, CGNAT and unique-local addresses
 *   (on-premise receivers); link-local and metadata addresses stay refused.
 * - WEBHOOK_ALLOWED_HOSTS lists hosts (names, IP addresses or CIDR ranges) allowed whatever they resolve to.
 */
export type WebhookAddressPolicy = Pick<Config['webhooks'], 'allowPrivate' | 'allowedHosts'>;

/** Instance metadata services (AWS, GCP, Azure, Oracle: 169.254.169.254; AWS IPv6; ECS/EKS credentials; Alibaba). */
const METADATA = ['169.254.169.254', 'fd00:ec2::254', '169.254.170.2', '169.254.170.23', 'fd00:ec2::23', '100.100.100.200']
  .map((a) => ipaddr.parse(a).toNormalizedString());
const ALLOWED_WHEN_PRIVATE = new Set(['loopback', 'private', 'carrierGradeNat', 'uniqueLocal']);
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback', private: 'private', carrierGradeNat: 'carrier-grade NAT', linkLocal: 'link-local', uniqueLocal: 'unique-local',
  multicast: 'multicast', broadcast: 'broadcast', unspecified: 'unspecified', reserved: 'reserved',
};

/** A host as compared with WEBHOOK_ALLOWED_HOSTS: lower case, without IPv6 brackets or trailing dots. */

/** Is this host (name or address) on WEBHOOK_ALLOWED_HOSTS, by name, address or CIDR range? */
function listed(host: string, policy: WebhookAddressPolicy): boolean {
  const h = normalizeHost(host);
  const addr = ipaddr.isValid(h) ? ipaddr.process(h) : null;
  return policy.allowedHosts.some((entry) => {
    const e = normalizeHost(entry);
    if (e === h) return true;
    if (!addr) return false;
    if (ipaddr.isValid(e)) return ipaddr.process(e).toNormalizedString() === addr.toNormalizedString();
    if (!ipaddr.isValidCIDR(e)) return false;
    const [range, bits] = ipaddr.parseCIDR(e);
    return range.kind() === addr.kind() && addr.match(range, bits);
  });
}

/** Why webhooks may not be sent to this IP address, or null when they may. */
export function refusedAddress(ip: string, policy: WebhookAddressPolicy): string | null {
  if (!ipaddr.isValid(ip)) return `${ip} is not an IP address`;
  if (listed(ip, policy)) return null;
  // process(): ::ffff:a.b.c.d is judged as a.b.c.d.
  const addr = ipaddr.process(ip);
  if (METADATA.includes(addr.toNormalizedString())) return 'a cloud metadata address';
  const range = addr.range();
  if (policy.allowPrivate && ALLOWED_WHEN_PRIVATE.has(range)) return null;
  if (range === 'unicast' && (addr.kind() === 'ipv4' || addr.match(GLOBAL_UNICAST_V6))) return null;
  return `a ${RANGE_NAMES[range] ?? `non-public (${range})`} address`;
}

const refusal = (host: string, ip: string | null, reason: string): string =>
  `${host}${ip && ip !== normalizeHost(host) ? ` resolves to ${ip},` : ' is'} ${reason}: webhooks go to public addresses only `
  + '(set WEBHOOK_ALLOWED_HOSTS or WEBHOOK_ALLOW_PRIVATE=true for receivers on your own network)';

/**
 * What can be told from the URL alone: the scheme, and a host that is an IP address or `localhost`.
 * (The WHATWG URL parser has already turned 0x7f.1, 2130706433 and 127.1 into 127.0.0.1.)
 */
export function refusedUrl(url: URL, policy: WebhookAddressPolicy): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the scheme ${url.protocol} is not allowed (http or https only)`;
  const host = normalizeHost(url.hostname);
  if (listed(host, policy)) return null;
  if (ipaddr.isValid(host)) {
    const reason = refusedAddress(host, policy);
    return reason ? refusal(url.hostname, host, reason) : null;
  }
  if ((host === 'localhost' || host.endsWith('.localhost')) && !policy.allowPrivate) return refusal(url.hostname, null, 'a loopback name');
  return null;
}

/**
 * The check of createWebhook / updateWebhook: the URL, then every address its host resolves to now. A
 * host that does not resolve (yet) is accepted: every delivery checks again before it connects.
 */
export async function refusedTarget(url: URL, policy: WebhookAddressPolicy): Promise<string | null> {
  const early = refusedUrl(url, policy);
  if (early) return early;
  const host = normalizeHost(url.hostname);
  if (ipaddr.isValid(host) || listed(host, policy)) return null;
  let addresses: LookupAddress[];
  try {
    addresses = await dns.lookup(host, { all: true, verbatim: true });
  } catch {
    return null;
  }
  for (const a of addresses) {
    const reason = refusedAddress(a.address, policy);
    if (reason) return refusal(url.hostname, a.address, reason);
  }
  return null;
}

/** A delivery refused by the address policy (recorded as the attempt's error). */
export class WebhookAddressRefused extends Error {
  readonly code = 'EWEBHOOKADDRESS';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request: resolves the name, refuses the connection when any address is not
 * allowed, and hands the checked addresses to the socket, which connects to one of them (no second
 * resolution between the check and the connection).
 */
export function checkedLookup(policy: WebhookAddressPolicy) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) { callback(err, []); return; }
      if (!listed(hostname, policy)) {
        for (const a of addresses) {
          const reason = refusedAddress(a.address, policy);
          if (reason) { callback(new WebhookAddressRefused(refusal(hostname, a.address, reason)), []); return; }
        }
      }
      if (options.all) callback(null, addresses);
      else if (addresses[0]) callback(null, addresses[0].address, addresses[0].family);
      else callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    });
  };
}

