/** piscina's task for the http+piscina anchor: the CPU part of a request. */
import { burn } from './http-handlers.js';

export default function cpu(rounds: number): number {
  return burn(rounds);
}
