/** Injection token of the NATS authority: a NatsAuthority in operator mode, undefined on a plain NATS server. */
export const NATS_AUTHORITY = Symbol('NATS_AUTHORITY');
