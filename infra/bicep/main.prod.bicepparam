// Production: geo-zone-redundant storage with read access in the paired region, purge protection, SMTP relay
// (e.g. Azure Communication Services), a custom domain for links. Secrets come from the deploying shell's
// environment or a pipeline secret store, never from this file.
using './main.bicep'

param baseName = 'threepl'
param environmentName = 'prod'
param storageSku = 'Standard_RAGZRS'
param adminKey = readEnvironmentVariable('THREEPL_ADMIN_KEY')
param signingKey = readEnvironmentVariable('THREEPL_SIGNING_KEY')
param smtpPassword = readEnvironmentVariable('THREEPL_SMTP_PASSWORD')
param smtpHost = 'smtp.azurecomm.net'
param smtpPort = 587
param smtpUserName = 'threepl-prod-smtp'
param emailFrom = 'no-reply@connect.example.com'
param publicBaseUrl = 'https://connect.example.com'
param otlpEndpoint = ''
param maximumInstanceCount = 200
param instanceMemoryMB = 2048
param logRetentionInDays = 90
param enablePurgeProtection = true
// The object id of your operators' Entra group (az ad group show --group <name> --query id -o tsv).
param operatorPrincipalId = readEnvironmentVariable('THREEPL_OPERATOR_GROUP_ID', '')
param operatorPrincipalType = 'Group'
param tags = {
  owner: 'platform-team'
  costCenter: 'logistics'
}
