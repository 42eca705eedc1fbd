using SysextFunctions.Registry.Content;

namespace SysextFunctions.Sysupdate;

/// <summary>One file sysupdate can download: a layer blob under the name SHA256SUMS gives it.</summary>
public sealed record SysextFile(string Name, string Tag, Digest Digest, long Size);
