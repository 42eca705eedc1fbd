// Flex Consumption plan and the Linux function app that runs the .NET isolated
// worker. Runtime, scaling and the deployment package location live in
// functionAppConfig on Flex; FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION
// must not be set as app settings there.

param planName string

param appName string

param location string

@description('Tags for the plan.')
param tags object = {}

@description('Tags for the function app (azd finds the service by azd-service-name).')
param appTags object = {}

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('URL of the blob container that holds the deployment package.')
param deploymentContainerUrl string

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@allowed([512, 2048, 4096])
param instanceMemoryMB int

@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int

@description('Client address ranges (CIDR) allowed in; empty allows all.')
param allowedClientRanges string[] = []

@description('Id of the Front Door profile in front of the app (its X-Azure-FDID); when set, only that Front Door reaches the app and allowedClientRanges is enforced there instead.')
param frontDoorId string = ''

@description('App settings (name -> value).')
param appSettings object

@description('Proxy__PublicUrl: the URL clients use; empty for the app\'s own https URL.')
param publicUrl string = ''

var clientRestrictions = [
  for (range, i) in allowedClientRanges: {
    name: 'client-${i}'
    action: 'Allow'
    ipAddress: range
    priority: 100 + i
  }
]

var frontDoorRestrictions = [
  {
    name: 'front-door'
    action: 'Allow'
    tag: 'ServiceTag'
    ipAddress: 'AzureFrontDoor.Backend'
    priority: 100
    headers: {
      'x-azure-fdid': [
        frontDoorId
      ]
    }
  }
]

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: appName
  location: location
  tags: appTags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references (e.g. Signing__Key) resolve with the same identity.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // Access restrictions: with ranges given, only they reach the app (the SCM site keeps its own rules).
      // Behind Front Door, only our own profile does: its service tag, with our profile's id in X-Azure-FDID.
      ipSecurityRestrictionsDefaultAction: empty(allowedClientRanges) && empty(frontDoorId) ? 'Allow' : 'Deny'
      ipSecurityRestrictions: empty(frontDoorId) ? clientRestrictions : frontDoorRestrictions
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  // The app's own host name is known only here, so the public URL is added here.
  resource appsettings 'config' = {
    name: 'appsettings'
    properties: union(appSettings, { Proxy__PublicUrl: effectivePublicUrl })
  }

  resource ftpPublishing 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }
}

output name string = app.name

output defaultHostName string = app.properties.defaultHostName

var effectivePublicUrl = empty(publicUrl) ? 'https://${app.properties.defaultHostName}' : publicUrl

output publicUrl string = effectivePublicUrl
