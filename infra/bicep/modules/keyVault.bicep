// Key Vault in RBAC mode holding the operator key, the approval-link signing key and the SMTP password.
// The app reads them through Key Vault references resolved with the user-assigned identity.

@description('Name of the Key Vault (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Turn on purge protection (recommended in production; once on it cannot be turned off).')
param enablePurgeProtection bool

@description('The operator key for /v1/admin/* (ThreePL:AdminKey).')
@secure()
param adminKey string

@description('The key that signs approval links (ThreePL:SigningKey), at least 32 characters.')
@secure()
@minLength(32)
param signingKey string

@description('The SMTP relay password (ThreePL:Email:Smtp:Password); stored only when storeSmtpPassword is true.')
@secure()
param smtpPassword string

@description('Whether there is an SMTP password to store.')
param storeSmtpPassword bool

@description('Tags for the resource.')
param tags object

@export()
@description('Names of the app\'s secrets in the vault; the Function App builds its Key Vault references from them.')
type secretNamesType = {
  adminKey: string
  signingKey: string
  smtpPassword: string
}

var names secretNamesType = {
  adminKey: 'threepl-admin-key'
  signingKey: 'threepl-signing-key'
  smtpPassword: 'threepl-smtp-password'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // The API refuses an explicit false: leave it out unless it is turned on.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }

  resource adminKeySecret 'secrets' = {
    name: names.adminKey
    properties: {
      value: adminKey
      contentType: 'text/plain'
    }
  }

  resource signingKeySecret 'secrets' = {
    name: names.signingKey
    properties: {
      value: signingKey
      contentType: 'text/plain'
    }
  }

  resource smtpPasswordSecret 'secrets' = if (storeSmtpPassword) {
    name: names.smtpPassword
    properties: {
      value: smtpPassword
      contentType: 'text/plain'
    }
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
// Names, never values: outputs stay readable in the deployment history by anyone with Reader access.
output secretNames secretNamesType = names
