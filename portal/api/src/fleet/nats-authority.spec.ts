import { decode, encodeAccount, type Account, type User } from '@nats-io/jwt';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';
import {
  accountJwtWithRevocations,
  agentPermissions,
  checkClaimsUpdateAnswer,
  NatsAuthority,
  unlimitedAccountLimits,
  type NatsAuthorityOptions,
} from './nats-authority';

const seedOf = (kp: KeyPair): string => new TextDecoder().decode(kp.getSeed());

/** An account as nats:setup makes it: signed by the operator signing key, with its own signing key listed. */
async function accountFixture() {
  const operatorSigning = createOperator();
  const account = createAccount();
  const accountSigning = createAccount();
  const accountJwt = await encodeAccount(
    'BATON',
    account,
    { signing_keys: [accountSigning.getPublicKey()], limits: unlimitedAccountLimits(true) },
    { signer: operatorSigning },
  );
  const options: NatsAuthorityOptions = {
    accountSigningSeed: seedOf(accountSigning),
    accountJwt,
    operatorSigningSeed: seedOf(operatorSigning),
    systemCreds: new TextEncoder().encode('not used by these tests'),
    natsUrl: 'nats://127.0.0.1:1',
  };
  return { operatorSigning, account, accountSigning, accountJwt, options };
}

describe('agentPermissions', () => {
  it('allows an agent only its own hello, heartbeat, events, orders and inbox, and one response per order', () => {
    expect(agentPermissions('web-1', 'baton')).toEqual({
      pub: { allow: ['baton.agent.hello', 'baton.agent.heartbeat.web-1', 'baton.events.*.web-1'] },
      sub: { allow: ['baton.node.web-1.>', '_INBOX_baton_web-1.>'] },
      resp: { max: 1, ttl: 0 },
    });
  });

  it('puts the subject prefix in every subject', () => {
    const p = agentPermissions('db-2', 'bt_x');
    expect([...p.pub.allow, ...p.sub.allow].every((subject) => subject.includes('bt_x'))).toBe(true);
  });
});

describe('NatsAuthority.issueAgentJwt', () => {
  it("signs a user JWT for the agent's own key with the account signing key, its permissions and expiry", async () => {
    const f = await accountFixture();
    const agentKey = createUser();
    const now = Date.UTC(2030, 0, 1, 12, 0, 0, 500);
    const issued = await new NatsAuthority(f.options).issueAgentJwt({
      userPublicKey: agentKey.getPublicKey(),
      node: 'web-1',
      subjectPrefix: 'baton',
      ttlMs: 24 * 3600_000,
      now,
    });
    const claims = decode<User>(issued.jwt); // checks the signature too
    expect(claims.sub).toBe(agentKey.getPublicKey());
    expect(claims.iss).toBe(f.accountSigning.getPublicKey());
    expect(claims.nats.issuer_account).toBe(f.account.getPublicKey());
    expect(claims.nats.type).toBe('user');
    expect(claims.nats.bearer_token).toBeFalsy();
    expect(claims.exp).toBe(Math.floor((now + 24 * 3600_000) / 1000));
    expect(issued.expiresAt).toEqual(new Date(claims.exp! * 1000));
    expect({ pub: claims.nats.pub, sub: claims.nats.sub, resp: claims.nats.resp }).toEqual(agentPermissions('web-1', 'baton'));
  });

  it('refuses a key that is not a user public key, a node name that is not a subject token, and a tiny ttl', async () => {
    const authority = new NatsAuthority((await accountFixture()).options);
    const user = createUser().getPublicKey();
    const issue = (a: { userPublicKey?: string; node?: string; ttlMs?: number }) =>
      authority.issueAgentJwt({ userPublicKey: user, node: 'web-1', subjectPrefix: 'baton', ttlMs: 60_000, ...a });
    await expect(issue({ userPublicKey: createAccount().getPublicKey() })).rejects.toThrow("the agent's key is not a U... NKey public key");
    await expect(issue({ userPublicKey: `${user.slice(0, -1)}${user.endsWith('A') ? 'B' : 'A'}` })).rejects.toThrow('not a U...');
    await expect(issue({ node: 'web.1' })).rejects.toThrow('node name "web.1" cannot be a subject token');
    await expect(issue({ node: 'web-*' })).rejects.toThrow('cannot be a subject token');
    await expect(issue({ ttlMs: 0 })).rejects.toThrow('at least 1 s');
  });
});

describe('NatsAuthority construction', () => {
  it('refuses an account signing key the account does not list', async () => {
    const f = await accountFixture();
    const foreign = createAccount();
    expect(() => new NatsAuthority({ ...f.options, accountSigningSeed: seedOf(foreign) })).toThrow(
      `the account signing key ${foreign.getPublicKey()} is not among the signing keys of account ${f.account.getPublicKey()}`,
    );
  });

  it('refuses an operator signing key that did not sign the account JWT (the servers would store it and lock the account)', async () => {
    const f = await accountFixture();
    const foreign = createOperator();
    expect(() => new NatsAuthority({ ...f.options, operatorSigningSeed: seedOf(foreign) })).toThrow(
      `the operator signing key ${foreign.getPublicKey()} did not sign the account JWT (${f.operatorSigning.getPublicKey()} did)`,
    );
  });

  it('says which seed is of the wrong kind without repeating it', async () => {
    const f = await accountFixture();
    const userSeed = seedOf(createUser());
    let message = '';
    try {
      new NatsAuthority({ ...f.options, accountSigningSeed: userSeed });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('the account signing seed is not an SA... seed');
    const damaged = `${f.options.operatorSigningSeed!.slice(0, -2)}AA`;
    expect(() => new NatsAuthority({ ...f.options, operatorSigningSeed: damaged })).toThrow(
      /^the operator signing seed is not a valid NKey seed/,
    );
  });

  it('refuses a JWT that is not an account JWT, or whose signature does not hold', async () => {
    const f = await accountFixture();
    const [header, body, signature] = f.accountJwt.split('.');
    const tampered = `${header}.${body}.${signature.slice(0, -4)}AAAA`;
    expect(() => new NatsAuthority({ ...f.options, accountJwt: tampered })).toThrow('the account JWT cannot be read');
    expect(() => new NatsAuthority({ ...f.options, accountJwt: 'not a jwt' })).toThrow('the account JWT cannot be read');
  });
});

describe('accountJwtWithRevocations', () => {
  it('re-signs the account with exactly the given revocations and keeps everything else', async () => {
    const f = await accountFixture();
    const revoked = createUser().getPublicKey();
    const withOne = decode<Account>(await accountJwtWithRevocations(f.accountJwt, { [revoked]: 1_900_000_000 }, f.operatorSigning));
    const base = decode<Account>(f.accountJwt);
    expect(withOne.sub).toBe(base.sub);
    expect(withOne.name).toBe('BATON');
    expect(withOne.iss).toBe(f.operatorSigning.getPublicKey());
    expect(withOne.nats.revocations).toEqual({ [revoked]: 1_900_000_000 });
    expect(withOne.nats.signing_keys).toEqual(base.nats.signing_keys);
    expect(withOne.nats.limits).toEqual(base.nats.limits);
    expect(withOne.jti).not.toBe(base.jti);

    const withNone = decode<Account>(await accountJwtWithRevocations(f.accountJwt, {}, f.operatorSigning));
    expect(withNone.nats.revocations).toBeUndefined();
  });
});

describe('NatsAuthority.pushRevocations', () => {
  it('says what is missing when the operator signing key or the system creds are not configured', async () => {
    const f = await accountFixture();
    const revocation = [{ userPublicKey: createUser().getPublicKey(), revokedAt: new Date() }];
    for (const missing of [{ operatorSigningSeed: undefined }, { systemCreds: undefined }]) {
      await expect(new NatsAuthority({ ...f.options, ...missing }).pushRevocations(revocation)).rejects.toThrow(
        /^cannot revoke NATS credentials: .*BATON_NATS_OPERATOR_SIGNING_SEED and BATON_NATS_SYSTEM_CREDS/,
      );
    }
  });

  it('refuses a revocation of something that is not a user key, before connecting', async () => {
    const f = await accountFixture();
    await expect(
      new NatsAuthority(f.options).pushRevocations([{ userPublicKey: f.account.getPublicKey(), revokedAt: new Date() }]),
    ).rejects.toThrow('a revoked key is not a U... NKey public key');
  });
});

describe('checkClaimsUpdateAnswer', () => {
  const account = createAccount().getPublicKey();

  it("accepts the server's 'jwt updated'", () => {
    expect(() =>
      checkClaimsUpdateAnswer({ data: { account, code: 200, message: 'jwt updated' }, server: { name: 'n1' } }, account),
    ).not.toThrow();
  });

  it("throws the server's reason when it refuses", () => {
    const refusal = { error: { account, code: 500, description: 'jwt validation failed - validation errors: [...]' } };
    expect(() => checkClaimsUpdateAnswer(refusal, account)).toThrow(
      `NATS refused the account update of ${account}: jwt validation failed - validation errors: [...]`,
    );
  });

  it('throws on an answer it does not understand', () => {
    expect(() => checkClaimsUpdateAnswer({ something: 'else' }, account)).toThrow('unexpectedly');
    expect(() => checkClaimsUpdateAnswer(null, account)).toThrow('unexpectedly');
  });
});
