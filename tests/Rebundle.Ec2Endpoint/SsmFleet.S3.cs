using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Xml.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>
/// The bit of S3 Run Command's output lands in: GetObject, path-style (<c>GET /&lt;bucket&gt;/&lt;key&gt;</c>,
/// as the SDK's S3 client sends it with ForcePathStyle and the endpoint as ServiceURL), signed for
/// scope <c>s3</c>. 200 with the object's bytes; else S3's XML errors: NoSuchBucket / NoSuchKey
/// (404), AccessDenied (403, a test's denial of s3:GetObject), InvalidAccessKeyId,
/// SignatureDoesNotMatch, RequestTimeTooSkewed (403). Ranges, versions and the rest of S3 are not
/// modelled. Logged under service "s3", action GetObject.
/// </summary>
public sealed partial class SsmFleet
{
    public const string S3SigningName = "s3";

    internal (int Status, string ContentType, byte[] Body) GetObject(SignedRequest signed, string bucket, string key)
    {
        lock (_ec2.Gate)
        {
            _ec2.AutoScaling.Reconcile();
            Reconcile();
            var parameters = new Dictionary<string, string>(StringComparer.Ordinal) { ["Bucket"] = bucket, ["Key"] = key };
            try
            {
                try
                {
                    SigV4Check.Verify(signed, _ec2.Settings, S3SigningName);
                }
                catch (Ec2Error e)
                {
                    throw e.Code switch
                    {
                        "AuthFailure" => new Ec2Error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403),
                        "RequestExpired" => new Ec2Error("RequestTimeTooSkewed", "The difference between the request time and the current time is too large. " + e.Message, 403),
                        _ => new Ec2Error("SignatureDoesNotMatch", e.Message, 403),
                    };
                }
                if (Faults.DeniedActions.Contains("s3:GetObject") || Faults.DeniedActions.Contains("GetObject"))
                    throw new Ec2Error("AccessDenied", "Access Denied", 403);
                if (!_buckets.Contains(bucket)) throw new Ec2Error("NoSuchBucket", "The specified bucket does not exist", 404);
                if (!_objects.TryGetValue((bucket, key), out var bytes)) throw new Ec2Error("NoSuchKey", "The specified key does not exist.", 404);
                _ec2.LogService("GetObject", parameters, 200, null, signed, S3SigningName);
                return (200, "text/plain; charset=utf-8", bytes);
            }
            catch (Ec2Error e)
            {
                _ec2.LogService("GetObject", parameters, e.Status, e.Code, signed, S3SigningName);
                var error = new XElement("Error", new XElement("Code", e.Code), new XElement("Message", e.Message));
                if (e.Code == "NoSuchKey") error.Add(new XElement("Key", key));
                if (e.Code == "NoSuchBucket") error.Add(new XElement("BucketName", bucket));
                error.Add(new XElement("RequestId", RandomNumberGenerator.GetHexString(16, lowercase: false)),
                    new XElement("HostId", Convert.ToBase64String(RandomNumberGenerator.GetBytes(48))));
                return (e.Status, "application/xml", System.Text.Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + error.ToString(SaveOptions.DisableFormatting)));
            }
        }
    }
}
