using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Rebundle.Ec2Endpoint;

/// <summary>A role credential the endpoint issued: who asked for which role, and the keys it gave.</summary>
public sealed record IssuedCredential(string Action, string RoleArn, string SessionName, string AccessKey, string SecretKey, string SessionToken);

/// <summary>
/// STS, as far as the SDK's credential providers use it: AssumeRole (signed with the source
/// credentials, scope "sts") and AssumeRoleWithWebIdentity (unsigned; the token must be one
/// the endpoint accepts). The credentials issued are temporary keys with a session token; EC2
/// calls signed with them must carry that token (<see cref="SigV4Check"/>).
/// </summary>
public sealed partial class Ec2Fleet
{
    private static readonly XNamespace StsNs = "https://sts.amazonaws.com/doc/2011-06-15/";
    private static readonly Regex RoleArn = new(@"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,64}$");
    private readonly List<IssuedCredential> _issued = new();

    public static bool IsStsAction(string action) => action is "AssumeRole" or "AssumeRoleWithWebIdentity";

    /// <summary>Every credential issued so far, oldest first.</summary>
    public IReadOnlyList<IssuedCredential> Issued
    {
        get { lock (_gate) return _issued.ToList(); }
    }

    /// <summary>
    /// SSO's GetRoleCredentials (GET /federation/credentials, as the SDK's SSO provider calls it
    /// with the token `aws sso login` cached): temporary keys for the account's role, JSON.
    /// </summary>
    public (int Status, string Body) SsoRoleCredentials(string? accountId, string? roleName, string? bearerToken)
    {
        lock (_gate)
        {
            var request = new QueryRequest(new Dictionary<string, string> { ["Action"] = "GetRoleCredentials", ["account_id"] = accountId ?? "", ["role_name"] = roleName ?? "" });
            if (bearerToken == null || !Settings.SsoAccessTokens.Contains(bearerToken))
            {
                Log(request, 401, "UnauthorizedException");
                return (401, "{\"message\":\"Session token not found or invalid\"}");
            }
            var roleArn = $"arn:aws:iam::{accountId}:role/{roleName}";
            var issued = new IssuedCredential("GetRoleCredentials", roleArn, "sso",
                "ASIA" + RandomNumberGenerator.GetHexString(16, lowercase: false), RandomNumberGenerator.GetHexString(40, lowercase: true),
                "ttm-session-" + RandomNumberGenerator.GetHexString(64, lowercase: true));
            _issued.Add(issued);
            Settings.Secrets[issued.AccessKey] = issued.SecretKey;
            Settings.SessionTokens[issued.AccessKey] = issued.SessionToken;
            Log(request, 200, null);
            var expiration = (Settings.SignatureClock() + TimeSpan.FromHours(1)).ToUnixTimeMilliseconds();
            return (200, $"{{\"roleCredentials\":{{\"accessKeyId\":\"{issued.AccessKey}\",\"secretAccessKey\":\"{issued.SecretKey}\",\"sessionToken\":\"{issued.SessionToken}\",\"expiration\":{expiration}}}}}");
        }
    }

    private (int Status, string Body) HandleSts(QueryRequest request, SignedRequest signed)
    {
        try
        {
            if (request.Action == "AssumeRole") SigV4Check.Verify(signed, Settings, "sts");
            var roleArn = request.Get("RoleArn") ?? throw new Ec2Error("ValidationError", "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
            if (!RoleArn.IsMatch(roleArn)) throw new Ec2Error("ValidationError", $"{roleArn} is invalid");
            var session = request.Get("RoleSessionName") ?? throw new Ec2Error("ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
            if (request.Action == "AssumeRoleWithWebIdentity")
            {
                var token = request.Get("WebIdentityToken") ?? "";
                if (!Settings.WebIdentityTokens.Contains(token))
                    throw new Ec2Error("InvalidIdentityToken", "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.");
            }

            var issued = new IssuedCredential(request.Action, roleArn, session,
                "ASIA" + RandomNumberGenerator.GetHexString(16, lowercase: false), RandomNumberGenerator.GetHexString(40, lowercase: true),
                "ttm-session-" + RandomNumberGenerator.GetHexString(64, lowercase: true));
            _issued.Add(issued);
            Settings.Secrets[issued.AccessKey] = issued.SecretKey;
            Settings.SessionTokens[issued.AccessKey] = issued.SessionToken;
            var role = roleArn.Substring(roleArn.LastIndexOf('/') + 1);
            var result = new XElement(StsNs + request.Action + "Result",
                new XElement(StsNs + "Credentials",
                    new XElement(StsNs + "AccessKeyId", issued.AccessKey),
                    new XElement(StsNs + "SecretAccessKey", issued.SecretKey),
                    new XElement(StsNs + "SessionToken", issued.SessionToken),
                    new XElement(StsNs + "Expiration", Ec2Xml.Time(Settings.SignatureClock() + TimeSpan.FromHours(1)))),
                new XElement(StsNs + "AssumedRoleUser",
                    new XElement(StsNs + "Arn", $"arn:aws:sts::{Ec2Xml.OwnerId}:assumed-role/{role}/{session}"),
                    new XElement(StsNs + "AssumedRoleId", "AROATTMTEST0000000001:" + session)));
            if (request.Action == "AssumeRoleWithWebIdentity")
                result.Add(new XElement(StsNs + "SubjectFromWebIdentityToken", "system:serviceaccount:ttm:rebundle"), new XElement(StsNs + "Audience", "sts.amazonaws.com"));
            Log(request, 200, null, signed);
            return (200, Serialize(new XElement(StsNs + request.Action + "Response", result,
                new XElement(StsNs + "ResponseMetadata", new XElement(StsNs + "RequestId", Guid.NewGuid().ToString())))));
        }
        catch (Ec2Error e)
        {
            Log(request, e.Status, e.Code, signed);
            return (e.Status, Serialize(new XElement(StsNs + "ErrorResponse",
                new XElement(StsNs + "Error", new XElement(StsNs + "Type", "Sender"), new XElement(StsNs + "Code", e.Code), new XElement(StsNs + "Message", e.Message)),
                new XElement(StsNs + "RequestId", Guid.NewGuid().ToString()))));
        }
    }
}
