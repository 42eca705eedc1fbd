using SysextFunctions.Registry.Oci;
using SysextFunctions.Rollouts;

namespace SysextFunctions.Sysupdate;

/// <summary>What a request path asks for.</summary>
public enum SysupdateResource
{
    /// <summary><c>/</c>: a one-line description, handy as a liveness probe; for a browser, the index of what is served.</summary>
    Root,

    /// <summary><c>/{repository}/SHA256SUMS</c>: the manifest file sysupdate reads first.</summary>
    Checksums,

    /// <summary><c>/{repository}/SHA256SUMS.gpg</c> and the other names sysupdate probes for a signature.</summary>
    Signature,

    /// <summary><c>/{repository}/{file}</c>: one file named in SHA256SUMS.</summary>
    File,

    /// <summary><c>/{repository}/</c>: what the repository offers, as a page or as JSON.</summary>
    Catalogue,

    /// <summary><c>/{repository}/{name}.transfer</c>: a sysupdate transfer definition for the repository.</summary>
    Transfer,
}

/// <summary>
/// The one place a request path is parsed. The path is the raw request target, before any decoding: OCI names,
/// tags and our file names never need percent-encoding, so any escape is refused rather than decoded, which
/// shuts out encoded slashes and dot segments whatever the host does with them.
/// Every path may also come machine-scoped, <c>/_m/&lt;key&gt;/…</c> (<c>_</c> starts no OCI repository component, so
/// nothing collides): the key is reduced to its <see cref="MachineHash"/> here, and only the hash travels on.
/// </summary>
public sealed record SysupdatePath(SysupdateResource Resource, string Repository, string FileName)
{
    /// <summary>The first segment of a machine-scoped path.</summary>
    public const string MachinePrefix = "_m";

    /// <summary>The machine a machine-scoped path names, as its keyed hash; null on the plain paths.</summary>
    public MachineHash? Machine { get; init; }

    public const string ChecksumsName = "SHA256SUMS";

    /// <summary>The extension of the transfer definition served next to the files, after systemd 257's own.</summary>
    public const string TransferExtension = ".transfer";

    /// <summary>Longer than any sane repository plus file name; longer paths get 414.</summary>
    public const int MaxPathLength = 1024;

    /// <summary>The file names of detached signatures, in the order systemd's sysupdate probes them.</summary>
    public static readonly string[] SignatureNames =
        ["SHA256SUMS.sha256.asc", "SHA256SUMS.sha256.gpg", "SHA256SUMS.gpg", "SHA256SUMS.asc"];

    private const int MaxFileNameLength = 255;

    private const string InvalidRepository = "invalid repository name (lower-case letters, digits and . _ - separators, at most 255 characters)";

    /// <summary>The last segment of the repository, which starts every file name.</summary>
    public string Name => Repository[(Repository.LastIndexOf('/') + 1)..];

    /// <summary>Parses with the built-in machine key secret; the handler passes the configured <see cref="MachineKeys"/>.</summary>
    public static PathParseResult Parse(string rawTarget) => Parse(rawTarget, MachineKeys.Default);

    public static PathParseResult Parse(string rawTarget, MachineKeys machineKeys)
    {
        if (rawTarget.Contains('?', StringComparison.Ordinal))
        {
            return PathParseResult.Fail(PathFailure.Invalid, "query strings are not supported");
        }

        if (rawTarget.Length > MaxPathLength)
        {
            return PathParseResult.Fail(PathFailure.TooLong, $"path longer than {MaxPathLength} characters");
        }

        if (!rawTarget.StartsWith('/'))
        {
            return PathParseResult.Fail(PathFailure.Invalid, "path must start with '/'");
        }

        foreach (var c in rawTarget)
        {
            if (c == '%')
            {
                return PathParseResult.Fail(PathFailure.Invalid, "percent-encoded characters are not allowed");
            }

            if (c is < '!' or > '~')
            {
                return PathParseResult.Fail(PathFailure.Invalid, "control, space and non-ASCII characters are not allowed");
            }
        }

        if (rawTarget == "/")
        {
            return PathParseResult.Ok(new SysupdatePath(SysupdateResource.Root, "", ""));
        }

        if (rawTarget.StartsWith("/" + MachinePrefix + "/", StringComparison.Ordinal))
        {
            return ParseMachineScoped(rawTarget, machineKeys);
        }

        return ParseRepositoryPath(rawTarget);
    }

    /// <summary>
    /// <c>/_m/&lt;key&gt;/&lt;repository path&gt;</c>: the rest parsed as a plain path would be. No reason given here ever
    /// contains the key.
    /// </summary>
    private static PathParseResult ParseMachineScoped(string rawTarget, MachineKeys machineKeys)
    {
        var keyStart = MachinePrefix.Length + 2;
        var keyEnd = rawTarget.IndexOf('/', keyStart);
        if (keyEnd == keyStart)
        {
            return PathParseResult.Fail(PathFailure.Invalid, "empty machine key in /_m/<key>/<repository>/…");
        }

        if (keyEnd < 0 || keyEnd == rawTarget.Length - 1)
        {
            return PathParseResult.Fail(PathFailure.Invalid, "machine-scoped path without a repository: /_m/<key>/<repository>/…");
        }

        if (machineKeys.TryHash(rawTarget.AsSpan(keyStart, keyEnd - keyStart)) is not { } machine)
        {
            return PathParseResult.Fail(PathFailure.Invalid, $"invalid machine key: {MachineKeys.KeyRule}");
        }

        var rest = ParseRepositoryPath(rawTarget[keyEnd..]);
        return rest.Path is { } path ? PathParseResult.Ok(path with { Machine = machine }) : rest;
    }

    /// <summary>Plain <c>/&lt;repository&gt;/…</c>, validated character by character already.</summary>
    private static PathParseResult ParseRepositoryPath(string rawTarget)
    {
        if (rawTarget == "/")
        {
            return PathParseResult.Fail(PathFailure.Invalid, "machine-scoped path without a repository: /_m/<key>/<repository>/…");
        }

        // "/{repository}/": the trailing slash, as for a directory listing, asks for the catalogue.
        var catalogue = rawTarget.EndsWith('/');
        var segments = (catalogue ? rawTarget[1..^1] : rawTarget[1..]).Split('/');
        foreach (var segment in segments)
        {
            if (segment.Length == 0)
            {
                return PathParseResult.Fail(PathFailure.Invalid, "empty path segment");
            }

            if (segment is "." or "..")
            {
                return PathParseResult.Fail(PathFailure.Invalid, "dot segments are not allowed");
            }
        }

        if (catalogue)
        {
            var listed = string.Join('/', segments);
            return Reference.IsValidRepository(listed)
                ? PathParseResult.Ok(new SysupdatePath(SysupdateResource.Catalogue, listed, ""))
                : PathParseResult.Fail(PathFailure.Invalid, InvalidRepository);
        }

        if (segments.Length < 2)
        {
            return PathParseResult.Fail(PathFailure.NotFound, $"not found: ask for /{segments[0]}/{ChecksumsName}");
        }

        var repository = string.Join('/', segments[..^1]);
        if (!Reference.IsValidRepository(repository))
        {
            return PathParseResult.Fail(PathFailure.Invalid, InvalidRepository);
        }

        var file = segments[^1];
        if (file.Length > MaxFileNameLength || !file.All(IsFileNameChar))
        {
            return PathParseResult.Fail(PathFailure.Invalid, "invalid file name");
        }

        var resource = file == ChecksumsName ? SysupdateResource.Checksums
            : SignatureNames.Contains(file, StringComparer.Ordinal) ? SysupdateResource.Signature
            : file == repository[(repository.LastIndexOf('/') + 1)..] + TransferExtension ? SysupdateResource.Transfer
            : SysupdateResource.File;
        return PathParseResult.Ok(new SysupdatePath(resource, repository, file));
    }

    /// <summary>
    /// A request path with the machine key of a machine-scoped path replaced by <c>{key}</c>, for whatever records
    /// paths outside our control (the request span's <c>url.path</c>).
    /// </summary>
    public static string Redact(string path)
    {
        var prefix = "/" + MachinePrefix + "/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return path;
        }

        var keyEnd = path.IndexOf('/', prefix.Length);
        return prefix + "{key}" + (keyEnd < 0 ? "" : path[keyEnd..]);
    }

    private static bool IsFileNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';
}

/// <summary>Why a path is refused; the HTTP edge turns it into a status.</summary>
public enum PathFailure
{
    /// <summary>Not a path sysupdate or any client of ours would send.</summary>
    Invalid,

    /// <summary>Longer than <see cref="SysupdatePath.MaxPathLength"/>.</summary>
    TooLong,

    /// <summary>Well-formed, but names nothing we serve (a repository without a file).</summary>
    NotFound,
}

/// <summary>A parsed path, or why and with which one-line reason to refuse it.</summary>
public readonly record struct PathParseResult(SysupdatePath? Path, PathFailure Failure, string? Error)
{
    public static PathParseResult Ok(SysupdatePath path) => new(path, default, null);

    public static PathParseResult Fail(PathFailure failure, string error) => new(null, failure, error);
}
