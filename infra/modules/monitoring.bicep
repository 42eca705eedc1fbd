// Log Analytics workspace and workspace-based Application Insights with local
// (instrumentation-key) auth disabled: telemetry is sent with the identity,
// which therefore gets Monitoring Metrics Publisher on the component.

param logAnalyticsName string

param applicationInsightsName string

param location string

param tags object = {}

@description('Resource id of the identity that sends telemetry (names the role assignment deterministically).')
param identityId string

@description('Principal id of that identity.')
param principalId string

// Monitoring Metrics Publisher: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor#monitoring-metrics-publisher
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identityId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      monitoringMetricsPublisherRoleId
    )
  }
}

output applicationInsightsName string = applicationInsights.name

// The connection string is not a secret once local auth is disabled: ingestion
// requires an Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
output connectionString string = applicationInsights.properties.ConnectionString
