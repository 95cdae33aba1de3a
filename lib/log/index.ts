/** The pure log-line library every path shares: parse at the edge, filter, format. */
export * from './line';
export * from './parse';
export * from './format';
export * from './filter';
export { parseRfc3339, parseRfc3339OrDate } from './time';
