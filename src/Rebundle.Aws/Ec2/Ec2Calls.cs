using System.Threading.Tasks;
using Amazon.EC2;
using Rebundle.Errors;

namespace Rebundle.Aws.Ec2
{
    /// <summary>
    /// Runs the SDK's asynchronous calls to completion for the synchronous backend interface,
    /// maps failures, and walks NextToken pages. Retries and backoff happen inside the SDK
    /// (standard retry mode), so a call that fails here has already been retried. A cancelled
    /// call throws <see cref="OperationCanceledException"/>, never a TtmException.
    /// </summary>
    public sealed class Ec2Calls : IDisposable
    {
        private readonly Ec2Parameters _names;

        public Ec2Calls(IAmazonEC2 client, string location, Ec2Parameters? names = null)
        {
            Client = client;
            Location = location;
            _names = names ?? Ec2Parameters.Aws;
        }

        public IAmazonEC2 Client { get; }

        /// <summary>Region and endpoint, for messages.</summary>
        public string Location { get; }

        public T Call<T>(string doing, CancellationToken cancellation, Func<IAmazonEC2, CancellationToken, Task<T>> call, object? target = null, TtmErrorCode notFound = TtmErrorCode.BackendError)
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                // Task.Run keeps a caller's synchronization context (a PowerShell host's) out of the SDK's continuations.
                // The token reaches the HTTP send and the SDK's retry delays, so Ctrl+C ends a stalled or retried call.
                return Task.Run(() => call(Client, cancellation), cancellation).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                throw new OperationCanceledException($"{doing} was stopped (Ctrl+C) before EC2 ({Location}) answered.", cancellation);
            }
            catch (Exception e) when (!(e is TtmException))
            {
                throw AwsErrors.Map(e, doing, Location, target, notFound, _names);
            }
        }

        /// <summary>
        /// Every item of a paginated read: <paramref name="page"/> is called with the previous
        /// page's NextToken (null first) and returns its items and the next token.
        /// </summary>
        public List<TItem> All<TItem>(string doing, CancellationToken cancellation, Func<IAmazonEC2, string?, CancellationToken, Task<(IEnumerable<TItem>? Items, string? NextToken)>> page)
        {
            var items = new List<TItem>();
            string? token = null;
            do
            {
                var current = token;
                var (found, next) = Call(doing, cancellation, (client, cancel) => page(client, current, cancel));
                if (found != null) items.AddRange(found);
                token = string.IsNullOrEmpty(next) ? null : next;
                if (token != null && token == current)
                    throw new TtmException(TtmErrorCode.BackendError, $"{doing} failed: EC2 ({Location}) returned the same page token twice, so the listing would never end.");
            }
            while (token != null);
            return items;
        }

        public void Dispose() => Client.Dispose();
    }
}
