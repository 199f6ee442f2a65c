import ipaddr from 'ipaddr.js';

/** A host as written in a URL or a setting, compared form: lower case, no IPv6 brackets, no trailing dot. */
export const normalizeHost = (host: string): string => host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.+$/, '');

/** A WEBHOOK_ALLOWED_HOSTS entry: a host name, an IP address or a CIDR range (config.ts checks the setting with it). */
export function validAllowedHost(entry: string): boolean {
  const e = normalizeHost(entry);
  return ipaddr.isValid(e) || ipaddr.isValidCIDR(e) || /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(e);
}
