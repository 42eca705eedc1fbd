using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace SysextFunctions.Http.Pages;

/// <summary>Markup we wrote ourselves, the one thing a page takes without encoding.</summary>
public readonly record struct Markup(string Value);

/// <summary>
/// Builds a page from interpolated strings whose literal parts are markup and whose holes are encoded with
/// <see cref="HtmlEncoder"/>: everything from the registry, the request or the configuration goes through a hole,
/// so it can never become markup, in text as in (double-quoted) attribute values. Only <see cref="Markup"/>,
/// strings and numbers fit a hole; anything else does not compile.
/// </summary>
public sealed class HtmlBuilder
{
    private readonly StringBuilder _text = new();

    public HtmlBuilder Append([InterpolatedStringHandlerArgument("")] ref HtmlHandler html) => this;

    public override string ToString() => _text.ToString();

    [InterpolatedStringHandler]
    public ref struct HtmlHandler
    {
        private readonly StringBuilder _text;

        public HtmlHandler(int literalLength, int formattedCount, HtmlBuilder builder)
        {
            _text = builder._text;
            _text.EnsureCapacity(_text.Length + literalLength + formattedCount * 16);
        }

        public readonly void AppendLiteral(string value) => _text.Append(value);

        public readonly void AppendFormatted(string? value) => _text.Append(HtmlEncoder.Default.Encode(value ?? ""));

        public readonly void AppendFormatted(Markup value) => _text.Append(value.Value);

        public readonly void AppendFormatted(long value) => _text.Append(value.ToString(CultureInfo.InvariantCulture));
    }
}
