// The Flex Consumption plan (Linux, serverless, per-function scaling).

@description('Name of the App Service plan.')
param name string

@description('Azure region (one that offers Flex Consumption: az functionapp list-flexconsumption-locations).')
param location string

@description('Tags for the resource.')
param tags object

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

output id string = plan.id
