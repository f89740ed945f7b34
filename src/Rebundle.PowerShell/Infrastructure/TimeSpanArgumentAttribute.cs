using System.Globalization;

namespace Rebundle.PowerShell.Infrastructure
{
    /// <summary>
    /// Reads a time span typed as text ("0:15:00", "1.00:00:00", "00:00:30") the same on every
    /// culture, and answers text that is not one with what to type. Without it PowerShell says
    /// "Cannot convert value 'soon' to type System.TimeSpan", naming a .NET type and no example.
    /// Anything else (a TimeSpan, New-TimeSpan's output) passes through to PowerShell's binding.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class TimeSpanArgumentAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            if (!(value is string text)) return inputData;
            if (TimeSpan.TryParse(text.Trim(), CultureInfo.InvariantCulture, out var parsed)) return parsed;
            throw new ArgumentTransformationMetadataException(
                $"'{text}' is not a time span. Give hours:minutes:seconds such as '0:15:00' (15 minutes), days first such as '1.00:00:00' (a day), or (New-TimeSpan -Minutes 15).");
        }
    }
}
