/** Sites (Akkeris's host names routed to apps) are not in the app registry: any valid DNS host name is one. */
import { NotFound } from './errors';

/** RFC 1123 host name: labels of 1–63 letters, digits and inner hyphens, 253 characters at most. */
const SITE = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** The site's key (lower case), or the 404 a site that cannot exist gets. */
export function siteKey(site: string): string {
  if (!SITE.test(site)) throw new NotFound(`The specified site ${site} does not exist.`);
  return site.toLowerCase();
}
