// Parameters for a plain deployment without azd:
//   AZURE_REGISTRY_NAME=myregistry az deployment group create \
//     --resource-group <rg> --template-file infra/main.bicep --parameters infra/main.bicepparam
// (azd uses main.parameters.json instead.)
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')

// The existing registry that holds the sysexts; it may live in another resource group.
param registryName = readEnvironmentVariable('AZURE_REGISTRY_NAME', 'myregistry')
param registryResourceGroup = readEnvironmentVariable('AZURE_REGISTRY_RESOURCE_GROUP', '')

param mappings = [
  {
    path: 'kubernetes'
    repository: 'sysexts/kubernetes'
  }
  {
    path: 'tools/*'
    repository: 'sysexts/tools/*'
  }
]

param blobDelivery = 'auto'
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param httpPerInstanceConcurrency = 16

// Limit who can reach the endpoint, e.g. [ '203.0.113.0/24' ] for a fleet's egress; empty: everyone.
param allowedClientRanges = []

// Set to the secret URI of the signing key in Key Vault to sign served files.
param signingKeySecretUri = readEnvironmentVariable('SYSEXT_SIGNING_KEY_SECRET_URI', '')
