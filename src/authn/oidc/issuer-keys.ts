// The issuer's signing keys: the discovery document at <issuer>/.well-known/openid-configuration
// names the JWKS, whose keys are cached and fetched again when a token names a key we do not have
// (the issuer rotated), when they are old (a removed key stops being trusted), or after a failure.
//
// Fetches are bounded: one at a time (concurrent callers share it), and a new one starts no sooner
// than `minRefreshIntervalMs` after a successful fetch or `retryAfterFailureMs` after a failed one,
// so tokens with made-up key ids cannot make this service flood the issuer.
import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from "jose";
import type { FetchLike } from "./fetch.ts";

/** Wall-clock milliseconds (Date.now by default); tokens expire in real time. */
export interface WallClock {
  now(): number;
}

/** The issuer could not be asked (network, TLS, HTTP status, a bad document): not the token's fault. */
export class OidcUnavailableError extends Error {
  override name = "OidcUnavailableError";
}

/** Told of every fetch, for logs and metrics. */
export type FetchEvent =
  | { document: "discovery" | "jwks"; url: string; ok: true }
  | { document: "discovery" | "jwks"; url: string; ok: false; error: Error };

export interface IssuerKeysOptions {
  issuer: string;
  fetch: FetchLike;
  clock: WallClock;
  minRefreshIntervalMs: number;
  retryAfterFailureMs: number;
  maxKeyAgeMs: number;
  fetchTimeoutMs: number;
  onFetch?: ((event: FetchEvent) => void) | undefined;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

// A discovery document or a key set of a few KiB is normal; a huge answer is refused.
const MAX_DOCUMENT_BYTES = 1024 * 1024;

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
}

export class IssuerKeys {
  readonly #options: IssuerKeysOptions;
  #keys: { resolve: KeyResolver; fetchedAt: number } | undefined;
  #jwksUri: string | undefined;
  #inFlight: Promise<void> | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #nextAttemptAt = Number.NEGATIVE_INFINITY;
  #lastError: Error | undefined;

  constructor(options: IssuerKeysOptions) {
    this.#options = options;
  }

  /**
   * The key for a token's protected header, in the shape of jose's key resolvers. Throws jose's
   * JWKSNoMatchingKey when no key matches even after a refresh (or when a refresh is not allowed
   * yet), and OidcUnavailableError when the keys could not be fetched.
   */
  readonly resolve = async (header: JWSHeaderParameters, token?: FlattenedJWSInput): Promise<CryptoKey> => {
    if (!this.#keys) {
      if (!this.#mayFetch()) throw this.#unavailable();
      await this.refresh();
    } else if (this.#options.clock.now() - this.#keys.fetchedAt >= this.#options.maxKeyAgeMs && this.#mayFetch()) {
      // Old keys keep serving while new ones are fetched; a failure keeps them (and is reported).
      this.refresh().catch(() => {});
    }
    const keys = this.#keys;
    if (!keys) throw this.#unavailable();
    try {
      return await keys.resolve(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // Newer keys arrived while this one was looking (a concurrent refresh): they decide.
      if (this.#keys && this.#keys !== keys) return this.#keys.resolve(header, token);
      if (!this.#mayFetch()) throw error;
    }
    await this.refresh();
    // biome-ignore lint/style/noNonNullAssertion: a successful refresh always sets the keys
    return this.#keys!.resolve(header, token);
  };

  /** Fetches the keys now (joining a fetch in flight), whatever the rate limit says; for warm-up. */
  refresh(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    const started = this.#options.clock.now();
    this.#lastAttemptAt = started;
    const attempt = this.#load().then(
      (resolve) => {
        const now = this.#options.clock.now();
        this.#keys = { resolve, fetchedAt: now };
        this.#lastError = undefined;
        this.#nextAttemptAt = now + this.#options.minRefreshIntervalMs;
      },
      (error: unknown) => {
        this.#lastError = error as Error;
        this.#nextAttemptAt = this.#options.clock.now() + this.#options.retryAfterFailureMs;
        throw this.#unavailable();
      },
    );
    const inFlight = attempt.finally(() => {
      if (this.#inFlight === inFlight) this.#inFlight = undefined;
    });
    this.#inFlight = inFlight;
    return inFlight;
  }

  /** Whether keys have been fetched at least once. */
  get ready(): boolean {
    return this.#keys !== undefined;
  }

  /** A fetch may start now: one is already running (join it), or the rate limit has passed. */
  #mayFetch(): boolean {
    const now = this.#options.clock.now();
    // A clock that went backwards must not lock the refresh out until it catches up.
    return this.#inFlight !== undefined || now >= this.#nextAttemptAt || now < this.#lastAttemptAt;
  }

  #unavailable(): OidcUnavailableError {
    const why = this.#lastError?.message ?? "keys not fetched yet";
    return new OidcUnavailableError(`oidc issuer unavailable: ${why}`, { cause: this.#lastError });
  }

  async #load(): Promise<KeyResolver> {
    this.#jwksUri ??= await this.#discover();
    const jwksUri = this.#jwksUri;
    try {
      const jwks = await this.#getJson("jwks", jwksUri);
      let resolve: KeyResolver;
      try {
        resolve = createLocalJWKSet(jwks as JSONWebKeySet);
      } catch {
        throw new Error(`${jwksUri}: not a JSON Web Key Set`);
      }
      this.#options.onFetch?.({ document: "jwks", url: jwksUri, ok: true });
      return resolve;
    } catch (error) {
      // The issuer may have moved its keys: ask the discovery document again next time.
      this.#jwksUri = undefined;
      this.#options.onFetch?.({ document: "jwks", url: jwksUri, ok: false, error: error as Error });
      throw error;
    }
  }

  async #discover(): Promise<string> {
    const url = discoveryUrl(this.#options.issuer);
    try {
      const doc = await this.#getJson("discovery", url);
      if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new Error(`${url}: not a JSON object`);
      const { issuer, jwks_uri: jwksUri } = doc as Record<string, unknown>;
      // OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer asked for.
      if (issuer !== this.#options.issuer) {
        throw new Error(`${url}: issuer ${JSON.stringify(issuer)} is not ${JSON.stringify(this.#options.issuer)}`);
      }
      if (typeof jwksUri !== "string" || !URL.canParse(jwksUri) || new URL(jwksUri).protocol !== "https:") {
        throw new Error(`${url}: jwks_uri is missing or not an https URL`);
      }
      this.#options.onFetch?.({ document: "discovery", url, ok: true });
      return jwksUri;
    } catch (error) {
      this.#options.onFetch?.({ document: "discovery", url, ok: false, error: error as Error });
      throw error;
    }
  }

  async #getJson(what: "discovery" | "jwks", url: string): Promise<unknown> {
    let text: string;
    try {
      const response = await this.#options.fetch(url, {
        method: "GET",
        headers: { accept: what === "jwks" ? "application/jwk-set+json, application/json" : "application/json" },
        // A redirect answer is not followed: it is a non-200 status and fails the fetch.
        redirect: "manual",
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(this.#options.fetchTimeoutMs))),
      });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      const length = Number(response.headers.get("content-length") ?? "0");
      if (length > MAX_DOCUMENT_BYTES) throw new Error("answer too large");
      text = await response.text();
    } catch (error) {
      throw new Error(`${url}: ${describeFetchError(error)}`, { cause: error });
    }
    if (text.length > MAX_DOCUMENT_BYTES) throw new Error(`${url}: answer too large`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${url}: not JSON`);
    }
  }
}

/** fetch() says "fetch failed"; the cause (refused, certificate not trusted, timeout) is what helps. */
function describeFetchError(error: unknown): string {
  const e = error as Error & { cause?: Error & { code?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") return "timed out";
  const cause = e.cause ? (e.cause.code ?? e.cause.message) : undefined;
  return cause && cause !== e.message ? `${e.message} (${cause})` : e.message;
}
