// Development: zone-redundant storage, small scale, no purge protection. Secrets come from the environment
// of the shell that deploys (never from this file):
//   export THREEPL_ADMIN_KEY="$(openssl rand -base64 32)" THREEPL_SIGNING_KEY="$(openssl rand -base64 48)"
//   export THREEPL_SMTP_PASSWORD=...   # optional
using './main.bicep'

param baseName = 'threepl'
param environmentName = 'dev'
param storageSku = 'Standard_ZRS'
param adminKey = readEnvironmentVariable('THREEPL_ADMIN_KEY')
param signingKey = readEnvironmentVariable('THREEPL_SIGNING_KEY')
param smtpPassword = readEnvironmentVariable('THREEPL_SMTP_PASSWORD', '')
param smtpHost = ''
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param logRetentionInDays = 30
param enablePurgeProtection = false
param tags = {
  owner: 'platform-team'
}
