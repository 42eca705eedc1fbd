using Microsoft.Extensions.Options;

namespace SysextFunctions.Upstreams;

/// <summary>
/// Checks each upstream once, at start-up: a wrong setting stops the service with a one-line reason naming the
/// setting, rather than surfacing as odd answers later.
/// </summary>
public sealed class UpstreamOptionsValidation : IValidateOptions<UpstreamOptions>
{
    public ValidateOptionsResult Validate(string? name, UpstreamOptions options) =>
        Check(UpstreamOptions.SectionOf(name ?? UpstreamOptions.DefaultId), options) is { } reason
            ? ValidateOptionsResult.Fail(reason)
            : ValidateOptionsResult.Success;

    private static string? Check(string section, UpstreamOptions options)
    {
        if ((options.Url is null) == (options.Layout is null))
        {
            return $"{section}: set exactly one of Url and Layout";
        }

        if (options.Url is { } url)
        {
            if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
            {
                return $"{section}:Url must be an absolute http or https URL";
            }

            if (!string.IsNullOrEmpty(url.UserInfo))
            {
                // A URL with credentials would end up in logs and in redirects: they go in Username/Password.
                return $"{section}:Url must not contain credentials; use {section}:Username and {section}:Password";
            }
        }

        var credential = options.CredentialKind;
        if (options.Layout is not null && credential != RegistryCredentialKind.None)
        {
            return $"{section}: a Layout takes no credentials";
        }

        if (credential == RegistryCredentialKind.Basic && string.IsNullOrEmpty(options.Username))
        {
            return $"{section}:Credential is Basic but {section}:Username is not set";
        }

        if (credential != RegistryCredentialKind.Basic && !string.IsNullOrEmpty(options.Username))
        {
            return $"{section}:Username is set but {section}:Credential is {credential}";
        }

        if (options.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            return $"{section}:Timeout must be positive";
        }

        try
        {
            _ = UpstreamOptions.ParseTagListing(options.TagListing);
        }
        catch (FormatException)
        {
            return $"{section}:TagListing must be auto, acr or distribution, not '{options.TagListing}'";
        }

        for (var i = 0; i < options.TokenRealms.Count; i++)
        {
            if (!UpstreamOptions.TryParseOrigin(options.TokenRealms[i], out _))
            {
                return $"{section}:TokenRealms:{i} must be an origin, scheme://host[:port] with http or https and no path, not '{options.TokenRealms[i]}'";
            }
        }

        if (!string.IsNullOrEmpty(options.CaCertificateFile))
        {
            if (options.Layout is not null)
            {
                return $"{section}: a Layout takes no CaCertificateFile";
            }

            try
            {
                // Read once here so that a missing or wrong file stops the start with the setting's name.
                _ = UpstreamTrust.Load(options.CaCertificateFile, $"{section}:CaCertificateFile");
            }
            catch (InvalidOperationException e)
            {
                return e.Message;
            }
        }

        return null;
    }
}
