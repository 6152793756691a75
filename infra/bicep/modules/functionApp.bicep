// The Function App on the Flex Consumption plan running the .NET isolated worker (the Worker SDK's
// functions.metadata tells the host which functions exist). It runs as the user-assigned identity: the host, the
// worker and Durable Functions reach storage with it (no keys), the platform pulls the deployment package with it,
// and Key Vault references in app settings are resolved with it (keyVaultReferenceIdentity).

import { secretNamesType } from 'keyVault.bicep'

@description('Name of the Function App (also the default host name prefix).')
param name string

@description('Azure region.')
param location string

@description('Resource id of the Flex Consumption plan.')
param planId string

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Blob endpoint of the storage account (https://<account>.blob.core.windows.net/).')
param blobEndpoint string

@description('Queue endpoint of the storage account.')
param queueEndpoint string

@description('Table endpoint of the storage account.')
param tableEndpoint string

@description('Blob container for the deployment package.')
param deploymentContainerName string

@description('Key Vault URI (https://<vault>.vault.azure.net/).')
param keyVaultUri string

@description('Names of the app\'s secrets in Key Vault.')
param secretNames secretNamesType

@description('Whether the SMTP password secret exists (and the app setting should reference it).')
param useSmtpPassword bool

@description('Name of the Application Insights component (its connection string only locates the ingestion endpoint; auth is Entra ID).')
param appInsightsName string

@description('Public base URL for links in e-mails; empty means https://<default host name>.')
param publicBaseUrl string

@description('SMTP relay host; empty leaves e-mail unconfigured (see docs/operations.md).')
param smtpHost string

@description('SMTP relay port.')
param smtpPort int

@description('SMTP user name.')
param smtpUserName string

@description('Sender address of e-mails.')
param emailFrom string

@description('OTLP endpoint for OpenTelemetry traces and metrics; empty turns the exporter off.')
param otlpEndpoint string

@description('Prefix of every table and queue name (ThreePL:Storage:Prefix); the queue triggers\' %ThreePL:Storage:Prefix% resolves to it.')
@minLength(1)
@maxLength(20)
param storagePrefix string

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Tags for the resource.')
param tags object

var keyVaultReference = 'SecretUri=${keyVaultUri}secrets'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: planId
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Flex Consumption takes the stack from here; FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION
      // are not allowed as app settings on this plan. The version follows the app's TargetFramework (net10.0).
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

var baseSettings = {
  // One identity-based connection, no key, for the host (leases, keys, queue triggers), Durable Functions' Azure
  // Storage backend (blob leases, control and work-item queues, history and instance tables) and our app
  // (Infrastructure/StorageClients: ManagedIdentityCredential(clientId)). Durable needs all three services.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: blobEndpoint
  AzureWebJobsStorage__queueServiceUri: queueEndpoint
  AzureWebJobsStorage__tableServiceUri: tableEndpoint
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // Our table and queue names and the queue triggers' %ThreePL:Storage:Prefix%<queue>, one setting for both, so the
  // triggers listen where the app sends. The WebJobs name resolver fails indexing ("does not resolve to a value")
  // when the setting is absent, so every queue trigger would be missing without it.
  ThreePL__Storage__Prefix: storagePrefix
  ThreePL__PublicBaseUrl: empty(publicBaseUrl) ? 'https://${site.properties.defaultHostName}' : publicBaseUrl
  // Versionless references: a new secret version is picked up on restart (or within 24 hours).
  ThreePL__AdminKey: '@Microsoft.KeyVault(${keyVaultReference}/${secretNames.adminKey}/)'
  ThreePL__SigningKey: '@Microsoft.KeyVault(${keyVaultReference}/${secretNames.signingKey}/)'
}

var smtpSettings = empty(smtpHost) ? {} : {
  ThreePL__Email__Smtp__Host: smtpHost
  ThreePL__Email__Smtp__Port: string(smtpPort)
  ThreePL__Email__Smtp__UserName: smtpUserName
  ThreePL__Email__From: emailFrom
}

var smtpPasswordSettings = !useSmtpPassword ? {} : {
  ThreePL__Email__Smtp__Password: '@Microsoft.KeyVault(${keyVaultReference}/${secretNames.smtpPassword}/)'
}

var otlpSettings = empty(otlpEndpoint) ? {} : {
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(baseSettings, smtpSettings, smtpPasswordSettings, otlpSettings)
}

output defaultHostName string = site.properties.defaultHostName
output name string = site.name
