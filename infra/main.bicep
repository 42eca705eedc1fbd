// Sysext Functions: an Azure Functions (Flex Consumption, .NET isolated) app that
// serves systemd-sysupdate from an OCI registry (an existing Azure Container Registry).
// One user-assigned identity is used for everything: host storage, deployment
// package, Application Insights ingestion, registry pulls and Key Vault references.
metadata description = 'Sysext Functions on Azure Functions Flex Consumption'

targetScope = 'resourceGroup'

@description('A repository mapping: the sysupdate path the app serves and the registry repository behind it. A trailing /* maps a whole subtree.')
type mapping = {
  @description('Path under the app\'s endpoint, e.g. kubernetes or tools/*.')
  path: string

  @description('Repository in the registry, e.g. sysexts/kubernetes or sysexts/tools/*.')
  repository: string
}

@description('Location for all resources.')
param location string = resourceGroup().location

@description('Prefix for resource names.')
@minLength(2)
@maxLength(10)
param namePrefix string = 'sysext'

@description('azd environment name, set as the azd-env-name tag.')
param environmentName string = namePrefix

@description('Extra tags for every resource.')
param tags object = {}

@description('Name of the existing Azure Container Registry that holds the sysexts.')
@minLength(5)
@maxLength(50)
param registryName string

@description('Resource group of the registry (default or empty: this deployment\'s resource group).')
param registryResourceGroup string = resourceGroup().name

@description('Assign AcrPull on the registry to the app\'s identity. Needs the right to assign roles there (Owner, User Access Administrator or Role Based Access Control Administrator); set false and assign it separately otherwise.')
param assignRegistryPull bool = true

@description('Repository mappings; each becomes Mappings__<i>__Path / Mappings__<i>__Repository.')
param mappings mapping[] = [
  {
    path: 'kubernetes'
    repository: 'sysexts/kubernetes'
  }
  {
    path: 'tools/*'
    repository: 'sysexts/tools/*'
  }
]

@description('How blob downloads reach the client: redirect to the registry\'s blob URL, stream through the app, or decide per request.')
@allowed([
  'auto'
  'redirect'
  'stream'
])
param blobDelivery string = 'auto'

@description('Path of the signing key file (Signing__KeyFile); omitted when empty.')
param signingKeyFile string = ''

@description('Key Vault secret URI of the signing key (Signing__Key as a Key Vault reference); omitted when empty. The identity needs "Key Vault Secrets User" on that vault.')
param signingKeySecretUri string = ''

@description('Upper bound of Flex Consumption instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance (MB).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Concurrent HTTP requests per instance.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('Client address ranges (CIDR, e.g. 203.0.113.0/24) allowed to reach the app; empty allows every address. The endpoint is anonymous (sysupdate cannot send keys), so this and the mappings are what limit exposure.')
param allowedClientRanges string[] = []

@description('Put Azure Front Door (Standard) in front of the app: a global endpoint that caches what the app\'s Cache-Control allows. The app then admits only this Front Door, and allowedClientRanges is enforced by a WAF policy at the edge.')
param frontDoor bool = false

@description('The URL clients reach the app at (Proxy__PublicUrl): a custom domain, or the Front Door endpoint (frontDoorEndpointUrl) once it exists. Generated transfer definitions and the catalogue name it whatever a request\'s Host says. Empty: the app\'s own https URL.')
param publicUrl string = ''

var token = uniqueString(resourceGroup().id)
var registryResourceGroupName = empty(registryResourceGroup) ? resourceGroup().name : registryResourceGroup
var baseTags = union(tags, { 'azd-env-name': environmentName })
var names = {
  identity: '${namePrefix}-id-${token}'
  storage: take(toLower(replace('${namePrefix}st${token}', '-', '')), 24)
  logAnalytics: '${namePrefix}-log-${token}'
  applicationInsights: '${namePrefix}-appi-${token}'
  plan: '${namePrefix}-plan-${token}'
  functionApp: '${namePrefix}-func-${token}'
  frontDoor: '${namePrefix}-afd-${token}'
  frontDoorEndpoint: '${namePrefix}-${token}'
  frontDoorWaf: '${replace(namePrefix, '-', '')}waf${token}'
}
var deploymentContainerName = 'app-package-${take(toLower(names.functionApp), 32)}'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: names.identity
  location: location
  tags: baseTags
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: baseTags
    deploymentContainerName: deploymentContainerName
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: baseTags
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' existing = {
  name: registryName
  scope: resourceGroup(registryResourceGroupName)
}

module registryAccess 'modules/registry-access.bicep' = if (assignRegistryPull) {
  name: 'registry-access-${token}'
  scope: resourceGroup(registryResourceGroupName)
  params: {
    registryName: registryName
    identityId: identity.id
    principalId: identity.properties.principalId
  }
}

var mappingSettings = reduce(
  range(0, length(mappings)),
  {},
  (settings, i) =>
    union(settings, {
      'Mappings__${i}__Path': mappings[i].path
      'Mappings__${i}__Repository': mappings[i].repository
    })
)

var signingSettings = union(
  empty(signingKeyFile) ? {} : { Signing__KeyFile: signingKeyFile },
  empty(signingKeySecretUri) ? {} : { Signing__Key: '@Microsoft.KeyVault(SecretUri=${signingKeySecretUri})' }
)

var appSettings = union(
  {
    // Host storage through the identity: no connection string, no shared key.
    AzureWebJobsStorage__accountName: storage.outputs.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
    Registry__Url: 'https://${registry.properties.loginServer}'
    Registry__Credential: 'ManagedIdentity'
    Registry__ManagedIdentityClientId: identity.properties.clientId
    Proxy__BlobDelivery: blobDelivery
  },
  mappingSettings,
  signingSettings
)

// Made here, before the app: the app's access restrictions name this profile's Front Door id.
resource frontDoorProfile 'Microsoft.Cdn/profiles@2024-09-01' = if (frontDoor) {
  name: names.frontDoor
  location: 'global'
  tags: baseTags
  sku: {
    name: 'Standard_AzureFrontDoor'
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    planName: names.plan
    appName: names.functionApp
    location: location
    tags: baseTags
    appTags: union(baseTags, { 'azd-service-name': 'functions' })
    identityId: identity.id
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    allowedClientRanges: frontDoor ? [] : allowedClientRanges
    frontDoorId: frontDoor ? frontDoorProfile!.properties.frontDoorId : ''
    appSettings: appSettings
    publicUrl: publicUrl
  }
}

module frontDoorRoutes 'modules/front-door.bicep' = if (frontDoor) {
  name: 'front-door'
  params: {
    profileName: frontDoorProfile.name
    endpointName: names.frontDoorEndpoint
    originHostName: functionApp.outputs.defaultHostName
    allowedClientRanges: allowedClientRanges
    wafPolicyName: names.frontDoorWaf
    tags: baseTags
  }
}

var endpointUrl = 'https://${functionApp.outputs.defaultHostName}'

@description('Base URL of the function app.')
output endpointUrl string = endpointUrl

output functionAppName string = functionApp.outputs.name

@description('Client id of the user-assigned identity.')
output identityClientId string = identity.properties.clientId

@description('Principal (object) id of the user-assigned identity.')
output identityPrincipalId string = identity.properties.principalId

@description('Base URL of the Front Door endpoint; empty without frontDoor. Give clients this one.')
output frontDoorEndpointUrl string = frontDoor ? 'https://${frontDoorRoutes!.outputs.hostName}' : ''

var clientUrl = !empty(publicUrl) ? publicUrl : frontDoor ? 'https://${frontDoorRoutes!.outputs.hostName}' : endpointUrl

@description('Proxy__PublicUrl as set on the app: the URL generated transfer definitions name.')
output publicUrl string = functionApp.outputs.publicUrl

@description('URL of the first mapping, for a sysupdate transfer file (through Front Door when it is on).')
output sysupdatePathExample string = empty(mappings) ? clientUrl : '${clientUrl}/${mappings[0].path}'
