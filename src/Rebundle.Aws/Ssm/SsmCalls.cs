using System.IO;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Rebundle.Aws.Ec2;
using Rebundle.Errors;

namespace Rebundle.Aws.Ssm
{
    /// <summary>
    /// The Systems Manager calls Rebundle makes (and S3's GetObject for output beyond SSM's limit),
    /// on the real SDK clients, made only when first needed (so a session that never runs remote
    /// work over SSM loads and sends nothing). Errors become TtmExceptions naming SSM; Ctrl+C
    /// throws OperationCanceledException at once.
    /// </summary>
    public sealed class SsmCalls : IDisposable
    {
        internal const string SendCommandAction = "SendCommand";
        internal const string GetCommandInvocationAction = "GetCommandInvocation";
        internal const string DescribeInstanceInformationAction = "DescribeInstanceInformation";
        internal const string CancelCommandAction = "CancelCommand";

        /// <summary>Every IAM action these calls need, as docs/aws.md's policy names them (s3:GetObject only with -OutputBucket).</summary>
        internal static readonly IReadOnlyList<string> Actions = new[]
        {
            "ssm:" + SendCommandAction, "ssm:" + GetCommandInvocationAction, "ssm:" + DescribeInstanceInformationAction, "ssm:" + CancelCommandAction, "s3:GetObject",
        };

        private readonly Lazy<IAmazonSimpleSystemsManagement> _ssm;
        private readonly Lazy<IAmazonS3> _s3;
        private readonly string _location;

        public SsmCalls(Func<IAmazonSimpleSystemsManagement> ssm, Func<IAmazonS3> s3, string location)
        {
            _ssm = new Lazy<IAmazonSimpleSystemsManagement>(ssm);
            _s3 = new Lazy<IAmazonS3>(s3);
            _location = location;
        }

        /// <summary>The agents of these instances: instance id → ping status (Online, ConnectionLost, Inactive); an instance SSM does not manage is absent.</summary>
        public IReadOnlyDictionary<string, InstanceInformation> Agents(IReadOnlyCollection<string> instanceIds, CancellationToken cancellation)
        {
            var found = new Dictionary<string, InstanceInformation>(StringComparer.Ordinal);
            // 50 ids a filter, paged by NextToken.
            foreach (var chunk in instanceIds.Distinct(StringComparer.Ordinal).Select((id, i) => (id, i)).GroupBy(x => x.i / 50).Select(g => g.Select(x => x.id).ToList()))
            {
                string? token = null;
                do
                {
                    var page = Call("Reading the SSM agents of " + string.Join(", ", chunk.Take(3)) + (chunk.Count > 3 ? ", …" : ""), cancellation,
                        c => _ssm.Value.DescribeInstanceInformationAsync(new DescribeInstanceInformationRequest
                        {
                            Filters = new List<InstanceInformationStringFilter> { new InstanceInformationStringFilter { Key = "InstanceIds", Values = chunk } },
                            MaxResults = 50,
                            NextToken = token,
                        }, c), chunk[0]);
                    foreach (var info in page.InstanceInformationList ?? new List<InstanceInformation>()) found[info.InstanceId] = info;
                    token = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
                }
                while (token != null);
            }
            return found;
        }

        public Command Send(SendCommandRequest request, string label, CancellationToken cancellation) =>
            Call($"Sending a command to {label} over SSM", cancellation, c => _ssm.Value.SendCommandAsync(request, c), label).Command;

        /// <summary>The invocation now, or null while SSM does not know it yet (InvocationDoesNotExist right after SendCommand).</summary>
        public GetCommandInvocationResponse? Invocation(string commandId, string instanceId, string label, CancellationToken cancellation)
        {
            try
            {
                return Call($"Reading the command on {label} over SSM", cancellation,
                    c => _ssm.Value.GetCommandInvocationAsync(new GetCommandInvocationRequest { CommandId = commandId, InstanceId = instanceId }, c), label);
            }
            catch (TtmException e) when (e.BackendCode == "InvocationDoesNotExist")
            {
                return null;
            }
        }

        public void Cancel(string commandId, string instanceId, string label) =>
            Call($"Cancelling the command on {label} (CancelCommand)", CancellationToken.None,
                c => _ssm.Value.CancelCommandAsync(new CancelCommandRequest { CommandId = commandId, InstanceIds = new List<string> { instanceId } }, c), label);

        /// <summary>The whole of an output SSM cut at its limit, from the S3 object it wrote (its URL: https://s3.…/bucket/key).</summary>
        public string WholeOutput(string bucket, string url, string label, CancellationToken cancellation)
        {
            var path = new Uri(url).AbsolutePath.TrimStart('/');
            var key = path.StartsWith(bucket + "/", StringComparison.Ordinal) ? path.Substring(bucket.Length + 1) : path;
            var response = Call($"Reading the whole output of the command on {label} from S3 (s3://{bucket}/{key})", cancellation,
                c => _s3.Value.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = Uri.UnescapeDataString(key) }, c), label);
            using (response)
            using (var reader = new StreamReader(response.ResponseStream))
                return reader.ReadToEnd();
        }

        private T Call<T>(string doing, CancellationToken cancellation, Func<CancellationToken, Task<T>> call, object target)
        {
            cancellation.ThrowIfCancellationRequested();
            try
            {
                return Task.Run(() => call(cancellation), cancellation).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                throw new OperationCanceledException($"{doing} was stopped (Ctrl+C) before SSM ({_location}) answered.", cancellation);
            }
            catch (AmazonServiceException e) when (!string.IsNullOrEmpty(e.ErrorCode))
            {
                throw Map(e, doing, target);
            }
            catch (Exception e) when (!(e is TtmException))
            {
                throw AwsErrors.Map(e, doing, _location, target);
            }
        }

        private TtmException Map(AmazonServiceException e, string doing, object target)
        {
            var code = e.ErrorCode;
            TtmException Error(TtmErrorCode ttm, string message) => new TtmException(ttm, message, target, e) { BackendCode = code };
            switch (code)
            {
                case "InvalidInstanceId":
                    return Error(TtmErrorCode.ServerUnreachable, $"{doing} failed: SSM says {code}: {e.Message} The instance is not a managed instance with an online agent; start the SSM agent or use -Transport Ssh.");
                case "ThrottlingException":
                case "Throttling":
                    return Error(TtmErrorCode.Throttled, $"{doing} failed: SSM ({_location}) kept throttling the requests ({code}). Wait a minute and run the command again.");
                case "AccessDeniedException":
                case "AccessDenied":
                    return Error(TtmErrorCode.AccessDenied, $"{doing} was refused ({code}: {e.Message}). Check that the credentials are allowed the ssm: (and s3:GetObject) actions listed in docs/aws.md.");
                case "NoSuchKey":
                case "NoSuchBucket":
                    return Error(TtmErrorCode.BackendError, $"{doing} failed: S3 says {code}: {e.Message} Check -OutputBucket.");
                default:
                    return Error(TtmErrorCode.BackendError, $"{doing} failed: SSM ({_location}) says {code}: {e.Message}");
            }
        }

        public void Dispose()
        {
            if (_ssm.IsValueCreated) _ssm.Value.Dispose();
            if (_s3.IsValueCreated) _s3.Value.Dispose();
        }
    }
}
