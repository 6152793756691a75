// Application Insights, workspace-based, Entra ID ingestion only (no instrumentation-key auth).

@description('Name of the Application Insights component.')
param name string

@description('Azure region.')
param location string

@description('Resource id of the Log Analytics workspace that stores the telemetry.')
param workspaceId string

@description('Tags for the resource.')
param tags object

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: name
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspaceId
    IngestionMode: 'LogAnalytics'
    // Telemetry must come with an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING + Monitoring Metrics Publisher).
    DisableLocalAuth: true
  }
}

output name string = appInsights.name
