import { Module } from '@nestjs/common';
import { AzureAuthModule } from 'nestjs-azure-auth';

@Module({
  imports: [
    AzureAuthModule.forRoot({ tenantId: process.env.AZURE_TENANT_ID ?? 'organizations', clientId: process.env.AZURE_CLIENT_ID ?? '', allowAnyTenant: true }),
  ],
})
export class AppModule {}
