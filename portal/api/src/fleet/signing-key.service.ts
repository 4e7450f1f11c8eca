/** The portal's Ed25519 dispatch key, created once and shared by all replicas through the settings table. */
import { Injectable, OnModuleInit } from '@nestjs/common';
import { EnvelopeSigner, generateSigningKeys, publicKeyOf } from '@baton/shared/node';
import { SettingsService } from '../core/settings.service';

@Injectable()
export class SigningKeyService implements OnModuleInit {
  signer!: EnvelopeSigner;
  publicKey!: string;

  constructor(private readonly settings: SettingsService) {}

  async onModuleInit(): Promise<void> {
    const pem = await this.settings.getOrCreate('dispatch.signingKey', () => generateSigningKeys().privateKeyPem);
    this.signer = new EnvelopeSigner(pem);
    this.publicKey = publicKeyOf(pem);
  }
}
