/** Router access lines (`alamoweblogs`), rendered as akkeris/logshuttle does (shuttle/shuttle.go). */
import { DEFAULT_SPACE, splitAppKey } from '../apps';
import { fail, lineTime, positionOf, type KafkaMessageInput, type ParseResult } from './message';

export const SOURCE_ROUTER = 'akkeris/router';

/** Splits `k=v k2="quoted value"` on whitespace outside double quotes. */
function routerTokens(text: string): string[] {
  return text.match(/(?:[^\s"]|"(?:[^"\\]|\\.)*"?)+/g) ?? [];
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function decodeUriLoose(v: string): string {
  try {
    return decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    return v;
  }
}

/**
 * Router access lines (`alamoweblogs`): raw `k=v` text. As logshuttle renders them: `hostname`,
 * `path`, `site_domain`, `site_path` and `timestamp` are taken out, `source=` becomes
 * `fwd="<unescaped>"`, every other pair is kept in order, then ` host=<app-space> path=<path>`
 * is appended. Tokens that are not `k=v` are kept as they are.
 */
export function parseRouterLog(text: string, msg: KafkaMessageInput, now: Date): ParseResult {
  const kept: string[] = [];
  let hostname = '';
  let path = '';
  let site = '';
  let sitePath = '';
  let timestamp: string | undefined;
  for (const token of routerTokens(text)) {
    const eq = token.indexOf('=');
    if (eq <= 0) {
      kept.push(token);
      continue;
    }
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    switch (key) {
      case 'hostname':
        hostname = unquote(value);
        break;
      case 'path':
        path = value;
        break;
      case 'site_domain':
        site = unquote(value);
        break;
      case 'site_path':
        sitePath = value;
        break;
      case 'timestamp':
        timestamp = unquote(value);
        break;
      case 'source':
        kept.push(`fwd="${decodeUriLoose(unquote(value).trim())}"`);
        break;
      default:
        kept.push(token);
    }
  }
  if (hostname === '') return fail('missing_fields', 'router line has no hostname=');
  const parts = splitAppKey(hostname.split('.')[0], { defaultSpace: DEFAULT_SPACE });
  if (!parts) return fail('missing_fields', `hostname ${hostname} names no app`);
  const { app, space } = parts;

  const base = kept.join(' ');
  const prefix = base === '' ? '' : `${base} `;
  const time = lineTime(timestamp, msg, now);
  const appKey = `${app}-${space}`;
  const common = { time, source: SOURCE_ROUTER, dyno: '', processType: '', severity: 6, position: positionOf(msg) };
  const result: ParseResult = {
    ok: true,
    line: { ...common, app, space, appKey, message: `${prefix}host=${appKey} path=${path}` },
  };
  if (site !== '') {
    result.siteLine = {
      ...common,
      time: new Date(time.getTime()),
      position: positionOf(msg),
      app: site,
      space: '',
      appKey: site,
      message: `${prefix}host=${site} path=${sitePath}`,
    };
  }
  return result;
}
