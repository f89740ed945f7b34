using Amazon.EC2.Model;
using Rebundle.Errors;

namespace Rebundle.Aws.Ec2
{
    /// <summary>
    /// EC2 refuses a call whose filters hold more than 200 values in all (FilterLimitExceeded),
    /// counting every filter of the call, not each one. A read with more values is split into
    /// calls that each stay within the limit: the filter with the most values is cut into chunks
    /// sized to what the other filters leave. Its values are alternatives, so the calls' results
    /// together are the one read's.
    /// </summary>
    public static class FilterLimit
    {
        public const int Values = 200;

        public static IEnumerable<List<Filter>> Split(IReadOnlyList<Filter>? filters, int limit = Values)
        {
            if (filters == null || filters.Sum(f => f.Values.Count) <= limit)
            {
                yield return filters?.ToList() ?? new List<Filter>();
                yield break;
            }
            var widest = filters.OrderByDescending(f => f.Values.Count).First();
            var room = limit - filters.Where(f => f != widest).Sum(f => f.Values.Count);
            if (room < 1)
                throw new TtmException(TtmErrorCode.InvalidArgument,
                    $"The read asks EC2 for {filters.Sum(f => f.Values.Count)} filter values, and EC2 takes at most {limit} in one call. Name fewer farms or aliases.");
            var at = filters.ToList().IndexOf(widest);
            for (var start = 0; start < widest.Values.Count; start += room)
            {
                var chunk = filters.ToList();
                chunk[at] = new Filter { Name = widest.Name, Values = widest.Values.Skip(start).Take(room).ToList() };
                yield return chunk;
            }
        }
    }
}
