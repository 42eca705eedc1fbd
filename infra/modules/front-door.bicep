// Azure Front Door (Standard) in front of the function app: one endpoint, one
// origin (the app's default host name over HTTPS) and one route that forwards
// every path. Caching is on and honours the app's Cache-Control: SHA256SUMS and
// its signatures for what is left of the listing's time to live, files and
// redirects for at most one time to live, errors never (docs/azure.md).
// The profile is made by main.bicep, before the app, whose access restrictions
// need the profile's Front Door id.

@description('Name of the existing Front Door profile (Standard_AzureFrontDoor).')
param profileName string

@description('Name of the endpoint; its host name is <name>-<hash>.z01.azurefd.net.')
param endpointName string

@description('Host name of the origin, the function app\'s default host name.')
param originHostName string

@description('Client address ranges (CIDR) allowed in; empty allows all. Enforced by a WAF policy at the edge, since the app sees Front Door\'s addresses.')
param allowedClientRanges string[] = []

@description('Name of the WAF policy made when allowedClientRanges is not empty (letters and digits only).')
param wafPolicyName string

param tags object = {}

resource profile 'Microsoft.Cdn/profiles@2024-09-01' existing = {
  name: profileName
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2024-09-01' = {
  parent: profile
  name: endpointName
  location: 'global'
  tags: tags
  properties: {
    enabledState: 'Enabled'
  }
}

resource originGroup 'Microsoft.Cdn/profiles/originGroups@2024-09-01' = {
  parent: profile
  name: 'function-app'
  properties: {
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
      additionalLatencyInMilliseconds: 50
    }
    // The root answers 200 with a one-line description and touches no registry.
    healthProbeSettings: {
      probePath: '/'
      probeRequestType: 'HEAD'
      probeProtocol: 'Https'
      probeIntervalInSeconds: 100
    }
  }
}

resource origin 'Microsoft.Cdn/profiles/originGroups/origins@2024-09-01' = {
  parent: originGroup
  name: 'function-app'
  properties: {
    hostName: originHostName
    originHostHeader: originHostName
    httpPort: 80
    httpsPort: 443
    priority: 1
    weight: 1000
    enabledState: 'Enabled'
    enforceCertificateNameCheck: true
  }
}

resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2024-09-01' = {
  parent: endpoint
  name: 'everything'
  // The route refers to the group; the group must have its origin before a route may use it.
  dependsOn: [
    origin
  ]
  properties: {
    originGroup: {
      id: originGroup.id
    }
    supportedProtocols: [
      'Http'
      'Https'
    ]
    httpsRedirect: 'Enabled'
    forwardingProtocol: 'HttpsOnly'
    patternsToMatch: [
      '/*'
    ]
    linkToDefaultDomain: 'Enabled'
    // Caching on, with no rule set overriding it: Front Door keeps what the app's Cache-Control allows and
    // nothing marked no-store or no-cache. The app refuses query strings (400), so none can split the cache.
    cacheConfiguration: {
      queryStringCachingBehavior: 'IgnoreQueryString'
      // Sysext images are compressed already; SHA256SUMS is small and its ETag names these exact bytes.
      compressionSettings: {
        isCompressionEnabled: false
      }
    }
  }
}

resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2024-02-01' = if (!empty(allowedClientRanges)) {
  name: wafPolicyName
  location: 'global'
  tags: tags
  sku: {
    name: 'Standard_AzureFrontDoor'
  }
  properties: {
    policySettings: {
      enabledState: 'Enabled'
      mode: 'Prevention'
    }
    customRules: {
      rules: [
        {
          name: 'OnlyAllowedClients'
          priority: 100
          ruleType: 'MatchRule'
          action: 'Block'
          matchConditions: [
            {
              matchVariable: 'SocketAddr'
              operator: 'IPMatch'
              negateCondition: true
              matchValue: allowedClientRanges
            }
          ]
        }
      ]
    }
  }
}

resource clientRanges 'Microsoft.Cdn/profiles/securityPolicies@2024-09-01' = if (!empty(allowedClientRanges)) {
  parent: profile
  name: 'allowed-clients'
  properties: {
    parameters: {
      type: 'WebApplicationFirewall'
      wafPolicy: {
        id: waf.id
      }
      associations: [
        {
          domains: [
            {
              id: endpoint.id
            }
          ]
          patternsToMatch: [
            '/*'
          ]
        }
      ]
    }
  }
}

@description('Host name of the Front Door endpoint.')
output hostName string = endpoint.properties.hostName
