// ThreePL Connect in one resource group: storage (tables, queues, blobs for the host, Durable Functions and the
// deployment package), a Flex Consumption Function App running the .NET isolated worker as a user-assigned
// identity, Key Vault for secrets, Log Analytics + Application Insights.
// Deploy: see docs/operations.md. Secrets come in as secure parameters and are stored only in Key Vault.
targetScope = 'resourceGroup'

@description('Short lower-case name used in every resource name (3-11 letters and digits).')
@minLength(3)
@maxLength(11)
param baseName string

@description('Environment label for names and tags, e.g. dev or prod.')
@minLength(2)
@maxLength(8)
param environmentName string

@description('Azure region; must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Storage replication. Standard_ZRS or LRS for dev; Standard_RAGZRS (or GZRS, GRS, RAGRS) in production for a copy in the paired region.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param storageSku string = 'Standard_ZRS'

@description('The operator key for /v1/admin/* (ThreePL:AdminKey). Stored in Key Vault only; generate with: openssl rand -base64 32.')
@secure()
@minLength(24)
param adminKey string

@description('The approval-link signing key (ThreePL:SigningKey, at least 32 characters). Stored in Key Vault only.')
@secure()
@minLength(32)
param signingKey string

@description('SMTP relay password (ThreePL:Email:Smtp:Password). Stored in Key Vault only; empty when the relay needs none or SMTP is not used.')
@secure()
param smtpPassword string = ''

@description('SMTP relay host, e.g. smtp.azurecomm.net; empty leaves e-mail unsent in Azure (the pickup folder is local disk).')
param smtpHost string = ''

@description('SMTP relay port (STARTTLS).')
param smtpPort int = 587

@description('SMTP user name.')
param smtpUserName string = ''

@description('Sender address of invitation and notification e-mails.')
param emailFrom string = ''

@description('Public base URL of links in e-mails (a custom domain); empty uses https://<app default host name>.')
param publicBaseUrl string = ''

@description('Optional OTLP endpoint (an OpenTelemetry collector) for traces and metrics; empty turns the exporter off.')
param otlpEndpoint string = ''

@description('Most instances the Function App scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory per instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Days to keep logs and telemetry in Log Analytics.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Key Vault purge protection; recommended in production (cannot be turned off once on).')
param enablePurgeProtection bool = false

@description('Optional object id of the operator (user or group) who rotates secrets: granted Key Vault Secrets Officer.')
param operatorPrincipalId string = ''

@description('Principal type of operatorPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param operatorPrincipalType string = 'Group'

@description('Prefix of every table and queue name the app uses (ThreePL:Storage:Prefix: 1-20 lower-case letters and digits, starting with a letter). The queue triggers name their queues %ThreePL:Storage:Prefix%<queue>, which the host resolves from this app setting; it is never empty because an empty app setting is not reliably delivered to the host (docs/operations.md).')
@minLength(1)
@maxLength(20)
param storagePrefix string = 'threepl'

@description('Tags added to every resource.')
param tags object = {}

var suffix = uniqueString(resourceGroup().id, baseName, environmentName)
var allTags = union(tags, {
  application: 'threepl-connect'
  environment: environmentName
})
var names = {
  storage: take(toLower('st${baseName}${environmentName}${suffix}'), 24)
  keyVault: take(toLower('kv-${baseName}-${environmentName}-${suffix}'), 24)
  identity: 'id-${baseName}-${environmentName}'
  logAnalytics: 'log-${baseName}-${environmentName}'
  appInsights: 'appi-${baseName}-${environmentName}'
  plan: 'plan-${baseName}-${environmentName}'
  functionApp: 'func-${baseName}-${environmentName}-${take(suffix, 6)}'
}
var deploymentContainerName = 'app-package'
var hasSmtpPassword = !empty(smtpPassword)

module logAnalytics 'modules/logAnalytics.bicep' = {
  name: 'logAnalytics'
  params: {
    name: names.logAnalytics
    location: location
    retentionInDays: logRetentionInDays
    tags: allTags
  }
}

module appInsights 'modules/appInsights.bicep' = {
  name: 'appInsights'
  params: {
    name: names.appInsights
    location: location
    workspaceId: logAnalytics.outputs.id
    tags: allTags
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    skuName: storageSku
    deploymentContainerName: deploymentContainerName
    tags: allTags
  }
}

module keyVault 'modules/keyVault.bicep' = {
  name: 'keyVault'
  params: {
    name: names.keyVault
    location: location
    enablePurgeProtection: enablePurgeProtection
    adminKey: adminKey
    signingKey: signingKey
    smtpPassword: smtpPassword
    storeSmtpPassword: hasSmtpPassword
    tags: allTags
  }
}

module roleAssignments 'modules/roleAssignments.bicep' = {
  name: 'roleAssignments'
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: appInsights.outputs.name
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

module plan 'modules/plan.bicep' = {
  name: 'plan'
  params: {
    name: names.plan
    location: location
    tags: allTags
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  params: {
    name: names.functionApp
    location: location
    planId: plan.outputs.id
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    keyVaultUri: keyVault.outputs.uri
    secretNames: keyVault.outputs.secretNames
    useSmtpPassword: hasSmtpPassword
    appInsightsName: appInsights.outputs.name
    publicBaseUrl: publicBaseUrl
    smtpHost: smtpHost
    smtpPort: smtpPort
    smtpUserName: smtpUserName
    emailFrom: emailFrom
    otlpEndpoint: otlpEndpoint
    storagePrefix: storagePrefix
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    tags: allTags
  }
  // The host starts reading storage and Key Vault as soon as the site exists: grant the roles first.
  dependsOn: [
    roleAssignments
  ]
}

@description('The app\'s public URL.')
output appUrl string = 'https://${functionApp.outputs.defaultHostName}'

@description('Function App name, for az functionapp deploy.')
output functionAppName string = functionApp.outputs.name

@description('Storage account name (tables, queues, poison queues, Durable Functions\' task hub, deployment package).')
output storageAccountName string = storage.outputs.name

@description('Key Vault name, for secret rotation.')
output keyVaultName string = keyVault.outputs.name
