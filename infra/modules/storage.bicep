// Storage account for the Functions host (AzureWebJobsStorage, identity-based)
// and the Flex Consumption deployment package container. Shared keys are off:
// everything authenticates with the user-assigned identity.

@description('Storage account name (3-24 lowercase letters and digits).')
param name string

param location string

param tags object = {}

@description('Blob container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Resource id of the identity that the function app runs as (names the role assignments deterministically).')
param identityId string

@description('Principal id of that identity.')
param principalId string

// Built-in roles the Functions host needs for identity-based AzureWebJobsStorage:
// https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource storage 'Microsoft.Storage/storageAccounts@2026-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }

  resource blobService 'blobServices' = {
    name: 'default'

    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

resource roleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for roleId in items(roles): {
    name: guid(storage.id, identityId, roleId.value)
    scope: storage
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId.value)
    }
  }
]

output name string = storage.name

@description('Blob endpoint, ending in a slash.')
output blobEndpoint string = storage.properties.primaryEndpoints.blob

@description('URL of the deployment package container.')
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${storage::blobService::deploymentContainer.name}'
