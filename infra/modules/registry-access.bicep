// Grants AcrPull on an existing container registry. Deployed as a module so it
// can be scoped to the registry's resource group, which may differ from the app's.
targetScope = 'resourceGroup'

@description('Name of the existing container registry (in this module\'s resource group).')
param registryName string

@description('Resource id of the identity that pulls from the registry (names the role assignment deterministically).')
param identityId string

@description('Principal id of that identity.')
param principalId string

// AcrPull: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers#acrpull
var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = {
  name: registryName
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identityId, acrPullRoleId)
  scope: registry
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
  }
}
