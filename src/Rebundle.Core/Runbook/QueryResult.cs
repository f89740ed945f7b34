using Rebundle.Errors;

namespace Rebundle.Runbook
{
    /// <summary>
    /// What a read found, plus one error for each exact name that matched nothing (the
    /// PowerShell convention: report the miss, keep the hits). Wildcards that match nothing
    /// are not errors.
    /// </summary>
    public sealed class QueryResult<T>
    {
        public QueryResult(IReadOnlyList<T> items, IReadOnlyList<TtmException>? misses = null)
        {
            Items = items;
            Misses = misses ?? Array.Empty<TtmException>();
        }

        public IReadOnlyList<T> Items { get; }

        public IReadOnlyList<TtmException> Misses { get; }
    }
}
