using System.Text.RegularExpressions;
using Rebundle.Errors;

namespace Rebundle.Aws.Ec2
{
    /// <summary>
    /// The form of an AWS region's name (us-east-1, eu-central-2, us-gov-west-1, cn-north-1),
    /// checked before the SDK sees it: the SDK answers a malformed one with its own exception,
    /// or quietly builds a host name from it.
    /// </summary>
    public static class AwsRegionName
    {
        private static readonly Regex Form = new Regex(@"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$", RegexOptions.CultureInvariant);

        /// <summary>Returns <paramref name="region"/>, or throws TtmInvalidArgument naming where it came from.</summary>
        public static string Require(string region, string source) => Form.IsMatch(region) ? region
            : throw new TtmException(TtmErrorCode.InvalidArgument,
                $"{source} '{region}' is not an AWS region name. Give one such as us-east-1 or eu-west-2 ('aws ec2 describe-regions' lists them).", region);
    }
}
