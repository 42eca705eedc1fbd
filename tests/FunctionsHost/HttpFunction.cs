using System.Text.Json;
using Microsoft.AspNetCore.Routing.Template;
using SysextFunctions.FunctionsHost.Rpc;

namespace SysextFunctions.FunctionsHost;

/// <summary>
/// An HTTP-triggered function as the host routes it: <c>routePrefix/route</c> (the function's name without a
/// route), and its methods, all of them when it names none. A request whose method is not among them finds no
/// route and gets 404, as under the host's method route constraint.
/// </summary>
public sealed class HttpFunction
{
    private static readonly JsonDocumentOptions JsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    private readonly TemplateMatcher _matcher;

    private HttpFunction(RpcFunctionMetadata metadata, string bindingName, string template, IReadOnlySet<string>? methods)
    {
        Metadata = metadata;
        BindingName = bindingName;
        Template = template;
        Methods = methods;
        _matcher = new TemplateMatcher(TemplateParser.Parse(template), new RouteValueDictionary());
    }

    public RpcFunctionMetadata Metadata { get; }

    public string FunctionId => Metadata.FunctionId;

    /// <summary>The trigger's parameter name, under which the invocation carries the request.</summary>
    public string BindingName { get; }

    public string Template { get; }

    /// <summary>Upper-case methods; null for every method.</summary>
    public IReadOnlySet<string>? Methods { get; }

    /// <summary>The function for an <c>httpTrigger</c> among the worker's raw bindings, or null for other triggers.</summary>
    internal static HttpFunction? From(RpcFunctionMetadata metadata, string routePrefix)
    {
        foreach (var raw in metadata.RawBindings)
        {
            using var binding = JsonDocument.Parse(raw, JsonOptions);
            var root = binding.RootElement;
            if (!string.Equals(Property(root, "type")?.GetString(), "httpTrigger", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var route = Property(root, "route")?.GetString() ?? metadata.Name;
            var prefix = routePrefix.Trim('/');
            var template = prefix.Length == 0 ? route.TrimStart('/') : $"{prefix}/{route.TrimStart('/')}";
            var methods = Property(root, "methods") is { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > 0
                ? list.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal)
                : null;
            return new HttpFunction(metadata, Property(root, "name")?.GetString() ?? "req", template, methods);
        }

        return null;
    }

    /// <summary>host.json's <c>extensions.http.routePrefix</c>; <c>api</c> when it says nothing.</summary>
    internal static string ReadRoutePrefix(string appDirectory)
    {
        var path = Path.Combine(appDirectory, "host.json");
        if (!File.Exists(path))
        {
            return "api";
        }

        using var hostJson = JsonDocument.Parse(File.ReadAllText(path), JsonOptions);
        return Property(hostJson.RootElement, "extensions") is { } extensions
            && Property(extensions, "http") is { } http
            && Property(http, "routePrefix") is { ValueKind: JsonValueKind.String } prefix
            ? prefix.GetString()!
            : "api";
    }

    /// <summary>The route values when <paramref name="request"/> is for this function, else null.</summary>
    internal RouteValueDictionary? Match(HttpRequest request)
    {
        if (Methods is not null && !Methods.Contains(request.Method.ToUpperInvariant()))
        {
            return null;
        }

        var values = new RouteValueDictionary();
        return _matcher.TryMatch(request.Path, values) ? values : null;
    }

    private static JsonElement? Property(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }
}
