// Log Analytics workspace: where Application Insights keeps its data.

@description('Name of the Log Analytics workspace.')
param name string

@description('Azure region.')
param location string

@description('Days of data to keep (30 is included in the price).')
@minValue(30)
@maxValue(730)
param retentionInDays int

@description('Tags for the resource.')
param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

output id string = workspace.id
