import type { AdapterName } from '../config/env.js';

/**
 * One per platform. It owns acknowledgements, signatures, rate limits and platform limits,
 * and renders the core's replies; it never decides business rules.
 */
export interface Adapter {
  readonly name: AdapterName;
  start(): Promise<void>;
  /** Called once the app is ready (`/readyz` served): for work that must not hold the start up. Must not throw. */
  started?(): void;
  /** Stops taking new work, lets in-flight replies finish, closes connections. */
  stop(): Promise<void>;
  /** Resolves when the adapter has finished by itself (the console at end of input); undefined for servers. */
  readonly finished?: Promise<void>;
  /** For readiness (`/readyz`): false while the platform connection (socket, gateway) is down. Omit if always connected. */
  isConnected?(): boolean;
}
